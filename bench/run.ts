// npm run bench: every benchmark, figures printed with ratios against a peer measured in the same run.
// BENCH_SECONDS / BENCH_RATES tune the call-setup runs (default 30 s at 500 and 1000 calls/s offered);
// BENCH_CALLS / BENCH_MEDIA_SECONDS the media runs (default 100 and 500 calls, 20 s each), each once per
// BENCH_SCHED mode (default normal,realtime), BENCH_NICE their PROCESS_NICE; BENCH_WS_CALLS the
// WebSocket fan-out run (default 100); BENCH_AI_CALLS / BENCH_AI_TURNS the AI turn-latency run (default 4 x 15).
// `npm run bench -- sip|calls|media|ws|vad|ai` runs one.
import { runAiLatencyBench } from './ai-latency.bench.ts';
import { runCallSetupBench } from './call-setup.bench.ts';
import { runMediaBench } from './media-load.bench.ts';
import { runSipParseBench } from './sip-parse.bench.ts';
import { runVadBench } from './vad.bench.ts';
import { runWsFanoutBench } from './ws-fanout.bench.ts';

const only = process.argv[2];
if (!only || only === 'sip') await runSipParseBench();
if (!only || only === 'calls') await runCallSetupBench();
if (!only || only === 'media') await runMediaBench();
if (!only || only === 'ws') await runWsFanoutBench();
if (!only || only === 'vad') await runVadBench();
if (!only || only === 'ai') await runAiLatencyBench();
process.exit(0);
