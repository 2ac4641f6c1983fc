// The machine's own floor for bench/media-load.bench.ts: a process that does nothing but wake on absolute
// 1 ms deadlines, like the RTP scheduler, run beside the relay during the measurement. Whatever lateness it
// sees comes from the OS and the other processes (the load generator), not from the relay's code.
// Argument: seconds. Prints one JSON line { count, p50, p99, over2 } (ms, and the share later than 2 ms).
import { LatenessHistogram } from '../src/io/rtp-scheduler.ts';

const seconds = Number(process.argv[2] ?? 10);
const h = new LatenessHistogram();
const t0 = performance.now();
let next = 1;
const fire = () => {
  const now = performance.now();
  while (t0 + next <= now) h.record(now - (t0 + next++));
  if (now - t0 >= seconds * 1000) {
    console.log(
      JSON.stringify({ count: h.count, p50: h.percentile(50), p99: h.percentile(99), over2: h.over(2) }),
    );
    return;
  }
  setTimeout(fire, Math.max(0, t0 + next - performance.now()));
};
fire();
