import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import { callCenterEnv } from '../helpers/ai-env.ts';
import { speechLike, wavFile } from '../helpers/audio.ts';
import { startFakeOpenAi } from '../helpers/fake-openai.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, sipp } from '../helpers/sipp.ts';

/** The SDP bodies of the responses with this status in a sipp message log (-trace_msg). */
function bodiesOf(log: string, status: number): string[] {
  return log
    .split(/-{20,}.*\n/)
    .filter((m) => m.includes(`SIP/2.0 ${status} `))
    .map((m) => m.slice(m.indexOf('v=0')).trim())
    .filter((b) => b.startsWith('v=0'));
}

describe.skipIf(!hasBinary('sipp'))('early media (EARLY_MEDIA=true), with sipp', () => {
  for (const [scenario, reliable] of [
    ['uac-early.xml', false],
    ['uac-early-100rel.xml', true],
  ] as const) {
    it(`183 with the answer and the greeting before the 200, which repeats the same answer${reliable ? '; 100rel: RSeq, PRACK, then the 200' : ''}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'early-'));
      writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 8)));
      const tone = new Int16Array(8000).map((_, i) =>
        Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
      );
      writeFileSync(join(dir, 'greeting.wav'), wavFile(tone, 8000)); // 1 s
      // 100rel: a client answers at once, before the PRACK; the 200 must still wait for it (RFC 3262 3)
      const relay = await startTestRelay({
        ...(reliable ? { AUTO_ANSWER: 'false' } : {}),
        EARLY_MEDIA: 'true',
        GREETING_PATH: join(dir, 'greeting.wav'),
        RTP_PORT_START: '49100',
        RTP_PORT_END: '49199',
      });
      const seen: Array<{ type: string; at: number; sent?: number }> = [];
      relay.calls.events$.subscribe((e) => {
        seen.push({ type: e.type, at: performance.now(), sent: relay.media.session(e.callId)?.stats.sent });
        if (reliable && e.type === 'call.early') setTimeout(() => relay.calls.answer(e.callId), 50);
      });
      try {
        const run = await sipp(
          scenario,
          `127.0.0.1:${relay.sip.port}`,
          [
            ...[
              '-s',
              'relay',
              '-m',
              '1',
              '-mi',
              '127.0.0.1',
              '-mp',
              String(await freeUdpPort()),
              '-trace_msg',
            ],
            ...['-key', 'rtp', `${join(dir, 'voice.ulaw')},-1,0`],
          ],
          30_000,
        );
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const types = seen.map((e) => e.type);
        expect(types.slice(0, 4)).toEqual(['call.incoming', 'call.media', 'call.early', 'call.answered']);
        const early = seen.find((e) => e.type === 'call.early')!;
        const answered = seen.find((e) => e.type === 'call.answered')!;
        if (reliable) {
          // answered by a client after 50 ms: the 200 waited for the PRACK (400 ms), greeting RTP meanwhile
          expect(answered.at - early.at).toBeGreaterThan(350);
          expect(answered.sent).toBeGreaterThan(10);
        } else {
          // the 1 s greeting went out as RTP before the call was answered, and the answer waited for it
          expect(answered.sent).toBeGreaterThanOrEqual(45);
          expect(answered.at - early.at).toBeGreaterThan(900);
        }
        const log = run.messages();
        const [sdp183] = bodiesOf(log, 183);
        const [sdp200] = bodiesOf(log, 200).filter((b) => b.includes('m=audio'));
        expect(sdp183).toBeTruthy();
        expect(sdp200).toBe(sdp183); // RFC 6337: the same answer, same o= version
        if (reliable) {
          expect(log).toMatch(/SIP\/2\.0 183 [\s\S]*?Require: 100rel[\s\S]*?RSeq: \d+/);
          // the 200 for the INVITE came only after the PRACK was answered
          expect(log.indexOf('CSeq: 2 PRACK')).toBeLessThan(log.lastIndexOf('CSeq: 1 INVITE'));
        } else {
          expect(log).not.toMatch(/RSeq:/);
        }
        expect(seen.find((e) => e.type === 'call.ended')).toMatchObject({ type: 'call.ended' });
      } finally {
        await relay.close();
      }
    });
  }

  it('with the AI: the agent speaks AI_GREETING_TEXT as early media, and the call is answered once that was heard', async () => {
    const fake = await startFakeOpenAi({});
    const dir = mkdtempSync(join(tmpdir(), 'early-ai-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 8)));
    const relay = await startTestRelay({
      EARLY_MEDIA: 'true',
      ...callCenterEnv(fake),
      AI_GREETING_TEXT: 'This call may be recorded.', // ~1.6 s of speech from the local server
      RTP_PORT_START: '49100',
      RTP_PORT_END: '49199',
    });
    const seen: Array<{ type: string; at: number; sent?: number }> = [];
    relay.calls.events$.subscribe((e) =>
      seen.push({ type: e.type, at: performance.now(), sent: relay.media.session(e.callId)?.stats.sent }),
    );
    try {
      const run = await relayCaller('uac-early.xml', relay.sip.port, join(dir, 'voice.ulaw'), {
        timeoutMs: 30_000,
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const early = seen.find((e) => e.type === 'call.early')!;
      const answered = seen.find((e) => e.type === 'call.answered')!;
      expect(fake.requests.find((r) => r.path === '/v1/audio/speech')?.body).toMatchObject({
        input: 'This call may be recorded.',
      });
      expect(answered.at - early.at).toBeGreaterThan(1300);
      expect(answered.sent).toBeGreaterThanOrEqual(60); // the spoken greeting went out before the 200
    } finally {
      await relay.close();
      await fake.close();
    }
  });
});
