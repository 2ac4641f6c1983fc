import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { resample } from '../../src/media/resample.ts';
import { envelopeCorrelation, readWavFile, speechLike, wavFile } from '../helpers/audio.ts';
import { baresipConfig, baresipRecording } from '../helpers/baresip.ts';
import { freeSipPort, hasBinary, run } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

describe.skipIf(!hasBinary('baresip'))('baresip calls the relay: greeting out, recording in', () => {
  for (const codec of ['pcmu', 'pcma']) {
    it(`${codec}: the relay records what baresip plays, and baresip hears the greeting`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `baresip-${codec}-`));
      const caller = speechLike(8000, 4, 7);
      const greeting22k = speechLike(22050, 3, 99); // any rate: the relay resamples to 8 kHz
      writeFileSync(join(dir, 'caller.wav'), wavFile(caller, 8000));
      writeFileSync(join(dir, 'greeting.wav'), wavFile(greeting22k, 22050));
      const relay = await startTestRelay({
        GREETING_PATH: join(dir, 'greeting.wav'),
        RECORDING: 'true',
        RECORDING_DIR: join(dir, 'relay-rec'),
        RTP_PORT_START: '45000',
        RTP_PORT_END: '45099',
      });
      const events: CallEvent[] = [];
      relay.calls.events$.subscribe((e) => events.push(e));
      const ua = baresipConfig(dir, await freeSipPort(), join(dir, 'caller.wav'), codec);
      const r = await run(
        'baresip',
        ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${relay.sip.port}`, '-t', '7'],
        {
          cwd: dir,
          timeoutMs: 20_000,
        },
      );
      await new Promise((res) => setTimeout(res, 300));
      await relay.close();
      expect(r.code, r.stdout.slice(-2000)).toBe(0);
      expect(events.find((e) => e.type === 'call.media')).toMatchObject({ codec: codec.toUpperCase() });
      expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'remote-bye' });

      // what the relay recorded = what baresip sent
      const recFiles = readdirSync(join(dir, 'relay-rec'));
      expect(recFiles).toHaveLength(1);
      const recorded = readWavFile(join(dir, 'relay-rec', recFiles[0]!));
      const sentByBaresip = baresipRecording(dir, 'enc');
      expect(recorded.rate).toBe(8000);
      const inbound = envelopeCorrelation(recorded.samples, caller);
      expect(
        inbound.corr,
        `relay recording vs caller audio (lag ${inbound.lagMs} ms)`,
      ).toBeGreaterThanOrEqual(0.9);
      // the recording ends when the relay has processed baresip's BYE: 0-40 ms apart here alone, 140 ms once
      // in a full CI run on a loaded machine; a lost or doubled second of audio is 1,000 ms
      const durDiff = Math.abs(recorded.samples.length - sentByBaresip.samples.length) / 8;
      expect(durDiff, 'recording duration vs what baresip sent (ms)').toBeLessThanOrEqual(250);

      // what baresip heard = the greeting (played after the ACK)
      const heard = baresipRecording(dir, 'dec');
      const outbound = envelopeCorrelation(heard.samples, resample(greeting22k, 22050, 8000));
      expect(
        outbound.corr,
        `baresip's recording vs the greeting (lag ${outbound.lagMs} ms)`,
      ).toBeGreaterThanOrEqual(0.9);
      console.log(
        `${codec}: relay recording vs caller r=${inbound.corr.toFixed(3)} (lag ${inbound.lagMs} ms), duration diff ${durDiff} ms; ` +
          `baresip heard vs greeting r=${outbound.corr.toFixed(3)} (lag ${outbound.lagMs} ms)`,
      );
    }, 40_000);
  }
});

describe.skipIf(!hasBinary('baresip'))(
  'RTP:{call_id}##{base64} from a WebSocket client is heard by the caller',
  () => {
    it('baresip records the PCM a legacy client sent (no greeting configured)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'baresip-ws-'));
      const caller = speechLike(8000, 4, 17);
      const reply = speechLike(8000, 3, 23);
      writeFileSync(join(dir, 'caller.wav'), wavFile(caller, 8000));
      const relay = await startTestRelay({
        GREETING_PATH: join(dir, 'none.wav'),
        RTP_PORT_START: '45200',
        RTP_PORT_END: '45299',
      });
      const ws = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/`);
      await new Promise((r) => ws.on('open', r));
      ws.on('message', (d) => {
        const m = String(d);
        // the original call-center client answers once it learns the Call-ID from CALL_ANS
        if (m.startsWith('CALL_ANS:')) {
          const pcm = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength); // s16le on x86
          ws.send(`RTP:${m.slice('CALL_ANS:'.length)}##${pcm.toString('base64')}`);
        }
      });
      const ua = baresipConfig(dir, await freeSipPort(), join(dir, 'caller.wav'), 'pcmu');
      const r = await run(
        'baresip',
        ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${relay.sip.port}`, '-t', '6'],
        {
          cwd: dir,
          timeoutMs: 20_000,
        },
      );
      ws.close();
      await relay.close();
      expect(r.code).toBe(0);
      const heard = baresipRecording(dir, 'dec');
      const c = envelopeCorrelation(heard.samples, reply);
      console.log(`baresip heard the client's audio: r=${c.corr.toFixed(3)} (lag ${c.lagMs} ms)`);
      expect(c.corr).toBeGreaterThanOrEqual(0.9);
    }, 40_000);
  },
);
