import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concatSamples, envelopeCorrelation, speechLike } from '../helpers/audio.ts';
import { freeUdpPort } from '../helpers/peers.ts';
import { Phone, peakOf } from '../helpers/phone.ts';

const root = resolve(import.meta.dirname, '../..');

describe('npm run call-center, out of the box (no key: the echo provider)', () => {
  it('answers a call, hears the caller out, and plays the turn back; SIGTERM ends it cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'call-center-'));
    const port = await freeUdpPort();
    const relay: ChildProcess = spawn('npm', ['run', 'call-center', '--silent'], {
      cwd: root,
      env: {
        ...process.env,
        OPENAI_API_KEY: '',
        AI_PROVIDER: '',
        SIP_LOCAL_PORT: String(port),
        WS_PORT: '0',
        SIP_LOG_FILE: '',
        RECORDING: 'false',
        OUTPUT_DIR: dir,
        RTP_PORT_START: '47200',
        RTP_PORT_END: '47299',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    relay.stdout!.on('data', (d) => (out += d));
    relay.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => relay.on('exit', (code) => r(code)));
    try {
      for (let i = 0; i < 200 && !out.includes('SIP relay listening'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(out).toMatch(/call center: an AI agent answers every call/);
      expect(out).toMatch(/echo/);
      const phone = await Phone.call(port);
      const question = speechLike(8000, 1.5, 21);
      await phone.say(question);
      const asked = performance.now();
      await phone.until(
        () => phone.heard.filter((p) => p.at > asked && peakOf(p.samples) > 1000).length > 30,
        5000,
      );
      await new Promise((r) => setTimeout(r, 1500));
      await phone.hangup();
      const heard = concatSamples(...phone.heard.filter((p) => p.at > asked).map((p) => p.samples));
      const c = envelopeCorrelation(heard, question);
      console.log(
        `call center (echo): the caller heard its turn back, r=${c.corr.toFixed(3)} after ${c.lagMs} ms of silence`,
      );
      expect(c.corr).toBeGreaterThan(0.9);
      expect(out).toMatch(/caller said/);
    } finally {
      relay.kill('SIGTERM');
    }
    expect(await exited, out.slice(-2000)).toBe(0);
  }, 30_000);
});
