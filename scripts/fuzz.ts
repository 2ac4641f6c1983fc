// npm run fuzz: the long fuzz run (FUZZ_MESSAGES, default 100,000; FUZZ_SEED) against an in-process relay
// over UDP on 127.0.0.1. Prints the report; exits 1 on a crash, an unanswered OPTIONS, a logged error or
// anything left afterwards.
import { fuzzRun } from '../test/helpers/fuzz-run.ts';

const messages = Number(process.env.FUZZ_MESSAGES ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000_007);
const t0 = performance.now();
const r = await fuzzRun(messages, seed, 30_000);
const s = ((performance.now() - t0) / 1000).toFixed(0);
console.log(`seed ${seed}: ${messages} messages in ${s} s`);
console.log(JSON.stringify(r.report));
console.log(`left afterwards: ${JSON.stringify(r.left)}; heap ${r.heapMb.toFixed(1)} MB`);
for (const e of r.errors.slice(0, 20)) console.log(`error: ${e}`);
const ok =
  r.report.probesAnswered === r.report.probes &&
  r.errors.length === 0 &&
  Object.values(r.left).every((v) => v === 0);
console.log(ok ? 'PASS' : 'FAIL');
process.exit(ok ? 0 : 1);
