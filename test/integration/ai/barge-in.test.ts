import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { callCenterEnv } from '../../helpers/ai-env.ts';
import { speechLike } from '../../helpers/audio.ts';
import { startFakeOpenAi } from '../../helpers/fake-openai.ts';
import { Phone, peakOf } from '../../helpers/phone.ts';
import { startTestRelay } from '../../helpers/relay.ts';

function tone(rate: number, seconds: number): Int16Array {
  const x = new Int16Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return x;
}

const LONG_REPLY =
  'Thank you for calling the shop today. Our opening hours are nine to six on weekdays. ' +
  'On Saturdays we open at ten and close at four. On Sundays and holidays we are closed.';

describe('barge-in on a live call (real UDP SIP/RTP, local OpenAI-compatible server)', () => {
  it('caller speech stops the reply within 100 ms; the cut answer is kept in the history as heard', async () => {
    let n = 0;
    const fake = await startFakeOpenAi({
      transcribe: () => (++n === 1 ? 'When are you open?' : 'Sorry, and on Sunday?'),
      reply: (m) => (m.filter((x) => x.role === 'user').length === 1 ? LONG_REPLY : 'Closed on Sunday.'),
      // a steady tone, no pauses, so the moment the reply stops is exact
      speech: (input) => tone(24000, input.length * 0.06),
    });
    const relay = await startTestRelay({
      ...callCenterEnv(fake),
      RTP_PORT_START: '45600',
      RTP_PORT_END: '45699',
    });
    const monitor = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/v1`);
    const events: Array<{ type: string; at: number; [k: string]: unknown }> = [];
    monitor.on('message', (d) => events.push({ ...JSON.parse(String(d)), at: performance.now() }));
    await new Promise((r) => monitor.on('open', r));
    const phone = await Phone.call(relay.sip.port);
    try {
      await phone.say(speechLike(8000, 1.5, 11));
      // the reply starts; let it play for a second
      await phone.until(() => phone.heard.some((p) => peakOf(p.samples) > 2000), 5000);
      const replyStart = phone.heard.find((p) => peakOf(p.samples) > 2000)!.at;
      await phone.until(() => performance.now() > replyStart + 1000, 3000);
      const before = phone.sent.length;
      const interrupted = phone.say(speechLike(8000, 1.2, 12));
      await phone.until(() => phone.sent.length > before, 1000);
      const t0 = phone.sent[before]!.at; // the first frame of the caller's interruption left the phone
      await interrupted;
      await phone.until(
        () => events.some((e) => e.type === 'ai.reply' && e.text === 'Closed on Sunday.'),
        5000,
      );

      const bargeIn = events.find((e) => e.type === 'ai.barge_in');
      expect(bargeIn, 'a barge-in was reported').toBeDefined();
      expect(bargeIn!.droppedMs as number, 'most of the long reply was still queued').toBeGreaterThan(2000);
      // the reply was audible right before the interruption, and nothing of it after 100 ms
      const lastReplyPacket = phone.heard.filter((p) => p.at < t0 + 1500 && peakOf(p.samples) > 300).at(-1)!;
      const stoppedAfter = lastReplyPacket.at - t0;
      console.log(
        `barge-in: last reply audio reached the phone ${stoppedAfter.toFixed(1)} ms after the caller's first frame; ${bargeIn!.droppedMs} ms of reply dropped`,
      );
      expect(stoppedAfter).toBeGreaterThan(-300);
      expect(stoppedAfter).toBeLessThanOrEqual(100);

      // the next chat request remembers the answer only as far as it was spoken
      const chats = fake.requests.filter((r) => r.path === '/v1/chat/completions');
      const messages = (chats.at(-1)!.body as { messages: Array<{ role: string; content: string }> })
        .messages;
      expect(messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
      expect(messages[2]!.content.endsWith(' …')).toBe(true);
      expect(LONG_REPLY.startsWith(messages[2]!.content.slice(0, -2))).toBe(true);
      expect(messages[2]!.content.length).toBeLessThan(LONG_REPLY.length);
    } finally {
      await phone.hangup();
      monitor.close();
      await relay.close();
      await fake.close();
    }
  }, 30_000);
});
