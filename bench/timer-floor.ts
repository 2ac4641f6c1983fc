// The machine's own floor for bench/media-load.bench.ts: a process that does nothing but sleep until
// absolute 1 ms deadlines, with the same microsecond sleep as the relay's clock thread (Atomics.wait), run
// beside the relay during the measurement. Whatever lateness it sees comes from the OS, the hypervisor and
// the other processes (the load generator), not from the relay's code.
// Argument: seconds. Prints one JSON line { count, p50, p99, over2 } (ms, and the share later than 2 ms).
import { LatenessHistogram } from '../src/io/media/rtp-scheduler.ts';

const seconds = Number(process.argv[2] ?? 10);
const h = new LatenessHistogram();
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const t0 = performance.now();
for (let next = 1; next <= seconds * 1000; next++) {
  const wait = t0 + next - performance.now();
  if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);
  h.record(performance.now() - (t0 + next));
}
console.log(
  JSON.stringify({ count: h.count, p50: h.percentile(50), p99: h.percentile(99), over2: h.over(2) }),
);
