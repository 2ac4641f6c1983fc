// Where the relay's main thread spends its time with N calls of media, plain or SRTP: a CPU profile of the
// steady state, summed by function (self time), the top lines printed. For finding SRTP's cost in place.
//   node --import tsx bench/srtp-profile.ts 100 srtp|plain
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { startRelay } from '../src/relay.ts';
import type { SrtpEngine } from '../src/rtp/srtp.ts';
import { makeCerts } from '../test/helpers/certs.ts';
import { generatorArgs, mediaRelayEnv } from './media-relay-env.ts';

const n = Number(process.argv[2] ?? 100);
const srtp = process.argv[3] === 'srtp';
const certs = srtp ? makeCerts() : undefined;
const cfg = parseConfig(mediaRelayEnv(mkdtempSync(join(tmpdir(), 'prof-rec-')), certs));
if (!cfg.ok) throw new Error(cfg.problems.join('; '));
// PROFILE_NULL_SRTP=1: the relay's SRTP only adds and strips the 10-byte tag (no crypto; the generator's
// checks then fail): what SRTP costs besides its crypto (packet size, the generator's side)
const nullSrtp: SrtpEngine = () => ({
  overhead: 10,
  protectRtp: (p) => Buffer.concat([p, Buffer.alloc(10)]),
  protectRtpInPlace: (_buf, length) => length + 10,
  unprotectRtpInPlace: (buf) => buf.subarray(0, buf.length - 10),
  protectRtcp: (p) => Buffer.concat([p, Buffer.alloc(14)]),
  unprotectRtcp: (p) => Buffer.from(p.subarray(0, p.length - 14)),
});
const relay = await startRelay(cfg.config, {
  log: silentLogger,
  ...(process.env.PROFILE_NULL_SRTP ? { srtpEngine: nullSrtp } : {}),
});
const seconds = 16;
const gen = spawn(process.execPath, generatorArgs(relay, n, seconds, srtp), {
  cwd: join(import.meta.dirname, '..'),
  stdio: ['ignore', 'ignore', 'inherit'],
});
for (let i = 0; i < 600 && relay.media.size < n; i++) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 1000));
const s = new Session();
s.connect();
await s.post('Profiler.enable');
await s.post('Profiler.setSamplingInterval', { interval: 100 });
await s.post('Profiler.start');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await new Promise((r) => setTimeout(r, 10_000));
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - t0;
const { profile } = await s.post('Profiler.stop');
const self = new Map<string, number>();
const dt = new Map<number, number>();
const { samples = [], timeDeltas = [] } = profile;
for (let i = 0; i < samples.length; i++)
  dt.set(samples[i]!, (dt.get(samples[i]!) ?? 0) + (timeDeltas[i] ?? 0));
let total = 0;
for (const node of profile.nodes) {
  const f = node.callFrame;
  const key = `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  const t = dt.get(node.id) ?? 0;
  total += t;
  self.set(key, (self.get(key) ?? 0) + t);
}
const busy = total - (self.get('(idle) :0') ?? 0);
console.log(
  `${n} calls ${srtp ? 'SRTP' : 'plain'}: CPU/call ${(((cpu.user + cpu.system) / 1000 / wall / n) * 100).toFixed(3)} % of a core; sampled busy ${((busy / 1000 / 10_000) * 100).toFixed(1)} % of a core (main thread)`,
);
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40))
  console.log(
    `${((t / busy) * 100).toFixed(1).padStart(6)} %  ${(t / 1000 / 10).toFixed(1).padStart(7)} ms/s  ${k}`,
  );
await new Promise((r) => gen.on('exit', r));
await relay.close();
process.exit(0);
