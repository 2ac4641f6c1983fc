/**
 * Compares the calls of two test runs made with TEST_CALL_TRACE_DIR (test/helpers/relay.ts): for each test
 * file, the event sequence of every call (machine events, actions and states in order; times, Call-IDs and
 * event data left out), as a multiset. A refactor that changes no behaviour leaves every file's multiset as
 * it was.
 *
 *   TEST_CALL_TRACE_DIR=/tmp/before npx vitest run <files>   (before the change)
 *   TEST_CALL_TRACE_DIR=/tmp/after npx vitest run <files>    (after it)
 *   npx tsx scripts/call-sequences.ts /tmp/before /tmp/after
 *
 * With one folder it prints each file's sequences and their counts.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Lines that depend on how fast the machine is, not on what the call did: left out of the sequence. */
const TIMING = /^event:timer\.(retransmit|ackRetransmit|reliable)/;

function sequences(dir: string): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const file of readdirSync(dir).sort()) {
    const sub = join(dir, file);
    if (!statSync(sub).isDirectory()) continue;
    const counts = new Map<string, number>();
    // one actor's trace may span files (its name's time stamp is when a file was opened: two registration
    // actors sharing the id 'registration' reopen it): the files of one id, in time order, are one trace
    const byId = new Map<string, string[]>();
    for (const trace of readdirSync(sub).sort()) {
      const id = trace.replace(/^\d{8}_\d{6}_/, '');
      byId.set(id, [...(byId.get(id) ?? []), trace]);
    }
    for (const traces of byId.values()) {
      const steps: string[] = [];
      for (const trace of traces)
        for (const line of readFileSync(join(sub, trace), 'utf8').split('\n')) {
          if (!line) continue;
          const l = JSON.parse(line) as { kind: string; event?: string; action?: string; state?: string };
          const step = `${l.kind}:${l.event ?? l.action ?? l.state}`;
          if (!TIMING.test(step)) steps.push(step);
        }
      const key = steps.join(' ');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    out.set(file, counts);
  }
  return out;
}

const [a, b] = process.argv.slice(2);
if (!a || !existsSync(a) || (b && !existsSync(b))) {
  console.error('usage: npx tsx scripts/call-sequences.ts <before-dir> [<after-dir>]');
  process.exit(2);
}
const before = sequences(a);
if (!b) {
  for (const [file, counts] of before) {
    console.log(`${file}: ${[...counts.values()].reduce((x, y) => x + y, 0)} calls`);
    for (const [seq, n] of counts) console.log(`  ${n} x ${seq}`);
  }
  process.exit(0);
}
const after = sequences(b);
let differ = 0;
let calls = 0;
for (const file of new Set([...before.keys(), ...after.keys()])) {
  const x = before.get(file) ?? new Map<string, number>();
  const y = after.get(file) ?? new Map<string, number>();
  for (const n of x.values()) calls += n;
  const diff: string[] = [];
  for (const seq of new Set([...x.keys(), ...y.keys()]))
    if ((x.get(seq) ?? 0) !== (y.get(seq) ?? 0))
      diff.push(`  ${x.get(seq) ?? 0} -> ${y.get(seq) ?? 0}: ${seq}`);
  if (diff.length > 0) {
    differ++;
    console.log(`${file}: differs\n${diff.join('\n')}`);
  }
}
console.log(`${calls} calls in ${before.size} test files; ${differ} file(s) differ`);
process.exit(differ > 0 ? 1 : 0);
