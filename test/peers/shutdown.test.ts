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

describe.skipIf(!hasBinary('sipp'))('graceful shutdown (SIGTERM to npm start)', () => {
  it('hangs up the call with BYE, finalises its recording and exits 0 within a few seconds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shutdown-'));
    const voice = speechLike(8000, 3, 11);
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', voice));
    const port = await freeUdpPort();
    const relay: ChildProcess = spawn('npm', ['start', '--silent'], {
      cwd: root,
      env: {
        ...process.env,
        SIP_LOCAL_PORT: String(port),
        WS_PORT: '0',
        SIP_LOG_FILE: '',
        RECORDING_DIR: join(dir, 'rec'),
        RTP_PORT_START: '47000',
        RTP_PORT_END: '47099',
        OUTPUT_DIR: dir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    relay.stdout!.on('data', (d) => (out += d));
    relay.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => relay.on('exit', (code) => r(code)));
    for (let i = 0; i < 200 && !out.includes('SIP relay listening'); i++)
      await new Promise((r) => setTimeout(r, 50));

    const caller = talkingCallers(`127.0.0.1:${port}`, join(dir, 'voice.ulaw'), {});
    await new Promise((r) => setTimeout(r, 4000)); // a few seconds of talk
    const t0 = Date.now();
    relay.kill('SIGTERM');
    expect(await exited, out).toBe(0);
    const took = Date.now() - t0;
    expect(took).toBeLessThan(3000);
    const r = await caller;
    expect(r.code, r.stdout.slice(-1500)).toBe(0); // sipp got the BYE and answered it
    const files = readdirSync(join(dir, 'rec'));
    expect(files).toHaveLength(1);
    const raw = readFileSync(join(dir, 'rec', files[0]!));
    const wav = readWav(raw);
    expect(wav.ok).toBe(true);
    if (!wav.ok) return;
    expect(raw.readUInt32LE(40)).toBe(wav.value.samples.length * 2); // the final header covers all data
    expect(wav.value.samples.length / 8000).toBeGreaterThan(3);
    expect(envelopeCorrelation(wav.value.samples, voice).corr).toBeGreaterThan(0.9);
    console.log(`shutdown took ${took} ms; recording ${(wav.value.samples.length / 8000).toFixed(2)} s`);
  }, 40_000);
});
