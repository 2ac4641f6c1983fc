// npm run bench: every benchmark, figures printed with ratios against a peer measured in the same run.
import { runSipParseBench } from './sip-parse.bench.ts';

await runSipParseBench();
