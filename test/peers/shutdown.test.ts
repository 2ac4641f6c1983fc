import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import { readWav } from '../../src/media/wav.ts';
import { envelopeCorrelation, speechLike } from '../helpers/audio.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { talkingCallers } from '../helpers/sipp.ts';

const root = resolve(import.meta.dirname, '../..');

/**
 * `npm start` (in a process group of its own when `group`) with a sipp caller talking to it for `talkMs`;
 * then `signal` runs; returns what the relay, the caller and the recording show afterwards.
 */
async function callThenSignal(
  signal: (relay: ChildProcess) => void,
  opts: { group: boolean; talkMs: number; rtpStart: number },
) {
  const dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
  const voice = speechLike(8000, 3, 11);
  writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', voice));
  const port = await freeUdpPort();
  const relay: ChildProcess = spawn('npm', ['start', '--silent'], {
    cwd: root,
    detached: opts.group,
    env: {
      ...process.env,
      SIP_LOCAL_PORT: String(port),
      WS_PORT: '0',
      SIP_LOG_FILE: '',
      RECORDING_DIR: join(dir, 'rec'),
      RTP_PORT_START: String(opts.rtpStart),
      RTP_PORT_END: String(opts.rtpStart + 99),
      OUTPUT_DIR: dir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  relay.stdout!.on('data', (d) => (out += d));
  relay.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) =>
    relay.on('exit', (code, sig) => r(code ?? (sig ? 128 : null))),
  );
  // 'close': every process holding the output pipes (npm and the node under it) has exited
  const closed = new Promise<void>((r) => relay.on('close', () => r()));
  for (let i = 0; i < 200 && !out.includes('SIP relay listening'); i++)
    await new Promise((r) => setTimeout(r, 50));
  const caller = talkingCallers(`127.0.0.1:${port}`, join(dir, 'voice.ulaw'), {});
  await new Promise((r) => setTimeout(r, opts.talkMs));
  const t0 = performance.now();
  signal(relay);
  const code = await exited;
  await closed;
  const took = performance.now() - t0;
  const sipp = await caller;
  const files = readdirSync(join(dir, 'rec'));
  const raw = files.length === 1 ? readFileSync(join(dir, 'rec', files[0]!)) : undefined;
  return { code, took, out, sipp, files, raw, voice };
}

/** The recording is a whole WAV whose final header covers all its data, and it holds the caller's voice. */
function expectFinalised(raw: Buffer | undefined, voice: Int16Array, minSeconds: number) {
  expect(raw).toBeDefined();
  const wav = readWav(raw!);
  expect(wav.ok).toBe(true);
  if (!wav.ok) return 0;
  expect(raw!.readUInt32LE(40)).toBe(wav.value.samples.length * 2);
  expect(wav.value.samples.length / 8000).toBeGreaterThan(minSeconds);
  expect(envelopeCorrelation(wav.value.samples, voice).corr).toBeGreaterThan(0.9);
  return wav.value.samples.length / 8000;
}

describe.skipIf(!hasBinary('sipp'))('graceful shutdown (signals to npm start)', () => {
  it('SIGTERM: hangs up the call with BYE, finalises its recording and exits 0 within a few seconds', async () => {
    const r = await callThenSignal((p) => p.kill('SIGTERM'), { group: false, talkMs: 4000, rtpStart: 47000 });
    expect(r.code, r.out).toBe(0);
    expect(r.took).toBeLessThan(10_000); // not the 20 s a hung shutdown would take (systemd's TimeoutStopSec)
    expect(r.sipp.code, r.sipp.stdout.slice(-1500)).toBe(0); // sipp got the BYE and answered it
    expect(r.files).toHaveLength(1);
    const seconds = expectFinalised(r.raw, r.voice, 3);
    console.log(`shutdown took ${r.took} ms; recording ${seconds.toFixed(2)} s`);
  }, 40_000);

  // systemd's default KillMode=control-group and `kill -- -PGID` signal npm AND node: node gets the signal
  // twice (npm forwards its own); SIGHUP comes when the terminal or SSH session closes
  for (const [name, send] of [
    ['SIGTERM to the whole process group', (p: ChildProcess) => process.kill(-p.pid!, 'SIGTERM')],
    ['SIGHUP to the whole process group', (p: ChildProcess) => process.kill(-p.pid!, 'SIGHUP')],
    [
      'Ctrl-C twice (SIGINT to the group, again 10 ms later)',
      (p: ChildProcess) => {
        process.kill(-p.pid!, 'SIGINT');
        setTimeout(() => {
          try {
            process.kill(-p.pid!, 'SIGINT');
          } catch {
            // already gone: the graceful stop was quicker than the second Ctrl-C
          }
        }, 10);
      },
    ],
  ] as const) {
    it(`${name}: still BYE and a finalised recording`, async () => {
      const r = await callThenSignal(send, { group: true, talkMs: 2000, rtpStart: 47100 });
      // npm's own exit status is npm's business (it dies of SIGHUP, and of a second SIGINT); the relay
      // (node) gets the signal itself and stops gracefully: BYE answered, recording whole, all gone in 5 s
      expect(r.took, r.out).toBeLessThan(5000);
      expect(r.sipp.code, r.sipp.stdout.slice(-1500)).toBe(0);
      expect(r.files).toHaveLength(1);
      expectFinalised(r.raw, r.voice, 1.5);
      expect(r.out).toContain('shutting down');
      expect(r.out).not.toMatch(/ERROR|FATAL/);
      // npm's copy of a Ctrl-C (and the same press reaching node twice) is one press, not a hurried second
      expect(r.out).not.toContain('second Ctrl-C');
    }, 40_000);
  }
});
