// npm run bench: every benchmark, figures printed with ratios against a peer measured in the same run.
// `npm run bench -- --help` lists the cases, their settings and how long each takes; `npm run bench -- <case>`
// runs one.
import { runAiLatencyBench } from './ai-latency.bench.ts';
import { runCallSetupBench } from './call-setup.bench.ts';
import { runDialogFloodBench } from './dialog-flood.bench.ts';
import { runMediaBench } from './media-load.bench.ts';
import { runSipParseBench } from './sip-parse.bench.ts';
import { runSipTransportsBench } from './sip-transports.bench.ts';
import { runSrtpBench } from './srtp.bench.ts';
import { runStartupBench } from './startup.bench.ts';
import { runVadBench } from './vad.bench.ts';
import { runWsFanoutBench } from './ws-fanout.bench.ts';

const CASES: Record<string, { run: () => Promise<void>; what: string; takes: string }> = {
  sip: {
    run: runSipParseBench,
    what: 'SIP parse/serialize messages per second vs the `sip` npm package',
    takes: '~30 s',
  },
  transports: {
    run: runSipTransportsBench,
    what: 'SIP requests per second over UDP, TCP and TLS through the relay, and TLS handshakes per second (BENCH_TRANSPORT_SECONDS, default 5)',
    takes: '~25 s',
  },
  flood: {
    run: runDialogFloodBench,
    what: 'OPTIONS latency while one dialog is flooded with UPDATEs, against the same relay unflooded (BENCH_FLOOD_RATE 1000, BENCH_FLOOD_SECONDS 5)',
    takes: '~15 s',
  },
  calls: {
    run: runCallSetupBench,
    what: 'call setups per second with sipp vs sipp uas (BENCH_SECONDS, default 30; BENCH_RATES 500,1000)',
    takes: '~3 min',
  },
  media: {
    run: runMediaBench,
    what: 'concurrent calls with RTP both ways: CPU per call, loss, pacing, plain and SRTP (BENCH_CALLS 100,500; BENCH_MEDIA_SECONDS 20; BENCH_SCHED normal,realtime; BENCH_MEDIA_SRTP plain,srtp; BENCH_NICE)',
    takes: '~4 min',
  },
  ws: {
    run: runWsFanoutBench,
    what: 'WebSocket fan-out of call audio to clients (BENCH_WS_CALLS, default 100)',
    takes: '~35 s',
  },
  vad: { run: runVadBench, what: 'voice activity detection frames per second', takes: '~5 s' },
  srtp: {
    run: runSrtpBench,
    what: 'SRTP protect/unprotect packets per second vs werift-rtp, and the CPU that costs a call (BENCH_SRTP_PACKETS)',
    takes: '~15 s',
  },
  ai: {
    run: runAiLatencyBench,
    what: 'AI turn latency against a local OpenAI-compatible server (BENCH_AI_CALLS 4, BENCH_AI_TURNS 15)',
    takes: '~2 min',
  },
  startup: {
    run: runStartupBench,
    what: 'start-up time and memory: built dist/ vs the tsx loader (BENCH_STARTS, default 5)',
    takes: '~30 s',
  },
};

const arg = process.argv[2];
if (arg === '--help' || arg === '-h') {
  console.log('npm run bench [-- <case>]: all cases, or one of:\n');
  for (const [name, c] of Object.entries(CASES))
    console.log(`  ${name.padEnd(8)} ${c.takes.padEnd(7)} ${c.what}`);
  process.exit(0);
}
if (arg !== undefined && !(arg in CASES)) {
  console.error(`unknown benchmark "${arg}": one of ${Object.keys(CASES).join(', ')} (or --help)`);
  process.exit(2);
}
for (const [name, c] of Object.entries(CASES)) if (arg === undefined || arg === name) await c.run();
process.exit(0);
