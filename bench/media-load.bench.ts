import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { decodeG711, encodeG711 } from '../src/media/g711.ts';
import { startRelay } from '../src/relay.ts';
import { makeCerts } from '../test/helpers/certs.ts';
import { opsPerSecond } from './measure.ts';
import { generatorArgs, mediaRelayEnv } from './media-relay-env.ts';
import { weriftSrtp } from './werift-srtp.ts';

const root = join(import.meta.dirname, '..');
const counts = (process.env.BENCH_CALLS ?? '100,500').split(',').map(Number);
const seconds = Number(process.env.BENCH_MEDIA_SECONDS ?? 20);
// BENCH_NICE: the relay's PROCESS_NICE; the generator and the floor process are put back to nice 0
const nice = process.env.BENCH_NICE ? Number(process.env.BENCH_NICE) : undefined;
// BENCH_SCHED: each count runs once per mode: normal, and/or realtime (the relay's REALTIME_PRIORITY=10,
// its main and clock threads only; the generator and the floor process stay in the normal class)
const modes = (process.env.BENCH_SCHED ?? 'normal,realtime').split(',').map((m) => m.trim());
for (const m of modes)
  if (m !== 'normal' && m !== 'realtime') throw new Error(`BENCH_SCHED: unknown mode ${m}`);
// BENCH_MEDIA_SRTP: plain (RTP), srtp (SIP over TLS and SDES-SRTP both ways, our SRTP; normal scheduling
// only), werift (the same with werift-rtp's SRTP in the relay: the peer measured in the same place)
const media = (process.env.BENCH_MEDIA_SRTP ?? 'plain,srtp').split(',').map((m) => m.trim());
// BENCH_MEDIA_ROUNDS: how many times each count's runs repeat, alternating (plain, SRTP, plain, SRTP ...):
// on a shared machine one pair can differ by 20 %; the summary gives what SRTP adds per round and the median
const rounds = Number(process.env.BENCH_MEDIA_ROUNDS ?? 1);
const atNormalPriority = (args: string[]): [string, string[]] =>
  nice ? ['nice', ['-n', String(-nice), process.execPath, ...args]] : [process.execPath, args];

export async function runMediaBench(): Promise<void> {
  const samples = Int16Array.from({ length: 160 * 50 }, (_, i) => Math.round(12000 * Math.sin(i / 7)));
  const mod = (await import('alawmulaw')) as unknown as Record<string, unknown>;
  const alawmulaw = (mod.mulaw ? mod : mod.default) as {
    mulaw: { encode(x: Int16Array): Uint8Array; decode(x: Uint8Array): Int16Array };
  };
  const coded = encodeG711('PCMU', samples);
  const ours = opsPerSecond(() => encodeG711('PCMU', samples), 300, 3) * samples.length;
  const theirs = opsPerSecond(() => alawmulaw.mulaw.encode(samples), 300, 3) * samples.length;
  const oursD = opsPerSecond(() => decodeG711('PCMU', coded), 300, 3) * samples.length;
  const theirsD = opsPerSecond(() => alawmulaw.mulaw.decode(coded), 300, 3) * samples.length;
  console.log('\nG.711 mu-law (million samples/s; ours = lookup tables from the reference algorithm)');
  console.log(
    `  encode: ours ${(ours / 1e6).toFixed(0)}, alawmulaw ${(theirs / 1e6).toFixed(0)}, ratio ${(ours / theirs).toFixed(2)}`,
  );
  console.log(
    `  decode: ours ${(oursD / 1e6).toFixed(0)}, alawmulaw ${(theirsD / 1e6).toFixed(0)}, ratio ${(oursD / theirsD).toFixed(2)}`,
  );

  console.log(
    `\nConcurrent calls with RTP both ways and recording on (${seconds} s each; generator in a second process;\n` +
      ' normal+SRTP: SIP over TLS and SDES-SRTP AES_CM_128_HMAC_SHA1_80 both ways)',
  );
  console.log(
    '  calls    scheduling  relay CPU/call (% of a core)  lost in  lost out  lateness p50 ms  p99 ms',
  );
  const runs = [
    ...(media.includes('plain') ? modes.map((mode) => ({ mode, srtp: undefined })) : []),
    ...(media.includes('srtp') ? [{ mode: 'normal', srtp: 'ours' as const }] : []),
    ...(media.includes('werift') ? [{ mode: 'normal', srtp: 'werift' as const }] : []),
  ];
  const certs = media.some((m) => m !== 'plain') ? makeCerts() : undefined;
  /** Per count, the CPU per call of each round's normal plain run and its SRTP runs. */
  const perCallOf = new Map<number, { plain: number[]; ours: number[]; werift: number[] }>();
  for (const n of counts)
    for (let round = 0; round < rounds; round++)
      for (const { mode, srtp } of runs) {
        const rec = mkdtempSync(join(tmpdir(), 'bench-rec-'));
        const cfg = parseConfig(
          mediaRelayEnv(rec, srtp ? certs : undefined, {
            RECORDING: process.env.BENCH_RECORDING ?? 'true',
            ...(nice !== undefined ? { PROCESS_NICE: String(nice) } : {}),
            ...(mode === 'realtime' ? { REALTIME_PRIORITY: '10' } : {}),
          }),
        );
        if (!cfg.ok) throw new Error(cfg.problems.join('; '));
        const relay = await startRelay(cfg.config, {
          log: silentLogger,
          ...(srtp === 'werift' ? { srtpEngine: weriftSrtp } : {}),
        });
        const policy = schedPolicy();
        const genArgs = generatorArgs(relay, n, seconds, srtp !== undefined);
        const gen = spawn(...atNormalPriority(genArgs), {
          cwd: root,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        gen.stdout.on('data', (d) => (out += d));
        const exited = new Promise((r) => gen.on('exit', r));
        // measure the steady state: from when every call has media until just before the generator stops
        for (let i = 0; i < 600 && relay.media.size < n; i++) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 1000));
        relay.media.scheduler.lateness.reset();
        relay.media.scheduler.clockLateness.reset();
        // the floor: an idle process's 1 ms timer on the same machine at the same moment (bench/timer-floor.ts)
        const floorProc = spawn(
          ...atNormalPriority(['--import', 'tsx', 'bench/timer-floor.ts', String(seconds - 4)]),
          { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
        );
        let floorOut = '';
        floorProc.stdout.on('data', (d) => (floorOut += d));
        const floorDone = new Promise((r) => floorProc.on('exit', r));
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, (seconds - 4) * 1000));
        const cpu = process.cpuUsage(cpu0);
        loop.disable();
        const loopP99 = loop.percentile(99) / 1e6;
        const wall = performance.now() - t0;
        const lateness = relay.media.scheduler.lateness;
        const clock = relay.media.scheduler.clockLateness;
        let lostIn = 0;
        for (const c of relay.calls.list()) lostIn += relay.media.session(c.callId)?.report().lost ?? 0;
        await exited;
        await floorDone;
        const floor = JSON.parse(floorOut.trim() || '{}') as { p99?: number; over2?: number };
        const g = JSON.parse(out.trim().split('\n').at(-1)!) as {
          answered: number;
          fromRelayExpected: number;
          fromRelayReceived: number;
          cpu: number;
          verified?: number;
          authFailures?: number;
        };
        const perCall = ((cpu.user + cpu.system) / 1000 / wall / n) * 100;
        if (mode === 'normal') {
          const seen = perCallOf.get(n) ?? { plain: [], ours: [], werift: [] };
          seen[srtp ?? 'plain'].push(perCall);
          perCallOf.set(n, seen);
        }
        const label =
          mode === 'realtime' && policy !== 2
            ? 'normal*'
            : srtp === 'ours'
              ? 'normal+SRTP'
              : srtp === 'werift'
                ? 'normal+werift'
                : mode;
        console.log(
          `  ${String(n).padStart(5)}${label.padStart(14)}${perCall.toFixed(3).padStart(30)}${String(lostIn).padStart(9)}${String(g.fromRelayExpected - g.fromRelayReceived).padStart(10)}` +
            `${lateness.percentile(50).toFixed(2).padStart(17)}${lateness.percentile(99).toFixed(2).padStart(8)}` +
            `   (${lateness.count} frames, ${(lateness.over(2) * 100).toFixed(2)} % later than 2 ms)` +
            `   (event-loop delay p99 ${loopP99.toFixed(1)} ms; the relay's clock thread: p99 ` +
            `${clock.percentile(99).toFixed(2)} ms, ${(clock.over(2) * 100).toFixed(2)} % later than 2 ms; ` +
            `an idle process sleeping to 1 ms deadlines beside it: p99 ` +
            `${floor.p99?.toFixed(2)} ms, ${((floor.over2 ?? 0) * 100).toFixed(2)} % later than 2 ms)` +
            `   (generator: ${(g.cpu * 100).toFixed(0)} % of a core)` +
            (g.verified !== undefined
              ? `   (SRTP from the relay: ${g.verified} packets checked, ${g.authFailures} failed)`
              : '') +
            (g.answered < n ? `   (only ${g.answered} of ${n} calls answered)` : '') +
            (mode === 'realtime' && policy !== 2
              ? '   (* real-time not permitted: needs root or CAP_SYS_NICE)'
              : ''),
        );
        await relay.close();
        if (schedPolicy() === 2) throw new Error('relay.close() left the main thread real-time');
        rmSync(rec, { recursive: true, force: true });
      }
  const pct = (a: number) => `${a >= 0 ? '+' : ''}${a.toFixed(0)} %`;
  for (const [n, seen] of perCallOf)
    for (const [who, runs] of [
      ['our SRTP', seen.ours],
      ["werift-rtp's SRTP", seen.werift],
    ] as const) {
      const adds = runs.slice(0, seen.plain.length).map((x, i) => (x / seen.plain[i]! - 1) * 100);
      if (adds.length === 0) continue;
      const median = [...adds].sort((a, b) => a - b)[adds.length >> 1]!;
      console.log(
        `  ${n} calls: ${who} adds ${adds.map(pct).join(', ')} of the plain run's CPU per call in the same ` +
          `round; median ${pct(median)}`,
      );
    }
}

/** The main thread's scheduling policy (/proc stat field 41: 0 normal, 2 SCHED_RR), or -1 off Linux. */
function schedPolicy(): number {
  try {
    const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    return Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[38]);
  } catch {
    return -1;
  }
}
