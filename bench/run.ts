// npm run bench: every benchmark, figures printed with ratios against a peer measured in the same run.
// BENCH_SECONDS and BENCH_RATES tune the call-setup runs (default 30 s at 500 and 1000 calls/s offered).
import { runCallSetupBench } from './call-setup.bench.ts';
import { runSipParseBench } from './sip-parse.bench.ts';

await runSipParseBench();
await runCallSetupBench();
