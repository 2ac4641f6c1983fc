import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { callCenterEnv } from '../../helpers/ai-env.ts';
import { speechLike } from '../../helpers/audio.ts';
import { startFakeRealtime } from '../../helpers/fake-realtime.ts';
import { hasBinary } from '../../helpers/peers.ts';
import { Phone, peakOf } from '../../helpers/phone.ts';
import { startTestRelay } from '../../helpers/relay.ts';

const LONG = 'This is a long answer that goes on and on, so that the caller has time to interrupt it.';

describe.skipIf(!hasBinary('openssl'))(
  'openai-realtime provider on a live call (local TLS Realtime server)',
  () => {
    it('G.711 both ways, greeting, a turn, barge-in with truncate at the heard length, reconnect with history', async () => {
      const fake = await startFakeRealtime({
        transcript: (n) => `question ${n}`,
        reply: (n, instructions) => (instructions ? 'Welcome.' : n === 3 ? LONG : `Answer ${n}.`),
      });
      const relay = await startTestRelay(
        {
          ...callCenterEnv(fake, 'openai-realtime'),
          AI_GREETING_TEXT: 'Welcome to the shop.',
          RTP_PORT_START: '45700',
          RTP_PORT_END: '45799',
        },
        { ai: { realtimeCa: fake.ca } },
      );
      const monitor = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/v1`);
      const events: Array<{ type: string; [k: string]: unknown }> = [];
      monitor.on('message', (d) => events.push(JSON.parse(String(d))));
      await new Promise((r) => monitor.on('open', r));
      const phone = await Phone.call(relay.sip.port);
      const audible = (from: number) => phone.heard.filter((p) => p.at > from && peakOf(p.samples) > 2000);
      try {
        // the session speaks the call's law, with the server's VAD
        await phone.until(
          () => fake.connections[0]?.events.some((e) => e.type === 'response.create') ?? false,
          5000,
        );
        const first = fake.connections[0]!;
        expect(first.url).toBe('/v1/realtime?model=gpt-realtime');
        expect(first.events[0]).toMatchObject({
          type: 'session.update',
          session: {
            type: 'realtime',
            audio: {
              input: { format: { type: 'audio/pcmu' }, turn_detection: { type: 'server_vad' } },
              output: { format: { type: 'audio/pcmu' }, voice: 'alloy' },
            },
          },
        });
        expect(first.events.find((e) => e.type === 'response.create')).toMatchObject({
          response: { instructions: expect.stringContaining('Welcome to the shop.') },
        });
        // the greeting is heard, then a question is answered
        await phone.until(() => audible(0).length > 5, 5000);
        await phone.until(() => events.some((e) => e.type === 'ai.reply' && e.text === 'Welcome.'), 5000);
        await new Promise((r) => setTimeout(r, 600)); // the greeting plays out
        const asked = performance.now();
        await phone.say(speechLike(8000, 1, 3));
        await phone.until(() => events.some((e) => e.type === 'ai.reply' && e.text === 'Answer 2.'), 5000);
        expect(events.find((e) => e.type === 'ai.transcript')).toMatchObject({ text: 'question 1' });
        await phone.until(() => audible(asked + 1000).length > 5, 5000);
        expect(first.events.filter((e) => e.type === 'input_audio_buffer.append').length).toBeGreaterThan(50);

        // barge-in: a long answer, interrupted after about a second of it
        await new Promise((r) => setTimeout(r, 800));
        const before = performance.now();
        await phone.say(speechLike(8000, 1, 4));
        await phone.until(() => audible(before).length > 0, 5000);
        const replyStart = audible(before)[0]!.at;
        await phone.until(() => performance.now() > replyStart + 1000, 3000);
        const n = phone.sent.length;
        const interrupted = phone.say(speechLike(8000, 0.8, 5));
        await phone.until(() => phone.sent.length > n, 1000);
        const t0 = phone.sent[n]!.at;
        await interrupted;
        await phone.until(() => first.events.some((e) => e.type === 'conversation.item.truncate'), 3000);
        const truncate = first.events.find((e) => e.type === 'conversation.item.truncate')!;
        expect(truncate).toMatchObject({ item_id: 'item_3', content_index: 0 });
        const heardMs = audible(replyStart - 1).filter((p) => p.at < t0 + 150).length * 20;
        expect(Math.abs((truncate.audio_end_ms as number) - heardMs)).toBeLessThanOrEqual(120);
        const last = audible(replyStart - 1)
          .filter((p) => p.at < t0 + 2000)
          .at(-1)!;
        console.log(
          `realtime barge-in: reply audio stopped ${(last.at - t0).toFixed(1)} ms after the caller's first frame; truncate audio_end_ms=${truncate.audio_end_ms} (phone heard ${heardMs} ms)`,
        );
        expect(last.at - t0).toBeLessThanOrEqual(150);
        expect(events.some((e) => e.type === 'ai.barge_in')).toBe(true);

        // the socket drops: the relay reconnects, configures the session and replays the conversation
        await new Promise((r) => setTimeout(r, 1500));
        fake.dropAll();
        await phone.until(() => (fake.connections[1]?.events.length ?? 0) >= 4, 5000);
        const second = fake.connections[1]!;
        expect(second.events[0]!.type).toBe('session.update');
        const replayed = second.events
          .filter((e) => e.type === 'conversation.item.create')
          .map(
            (e) =>
              (e.item as { role: string; content: Array<{ text: string }> }).role +
              ': ' +
              (e.item as { content: Array<{ text: string }> }).content[0]!.text,
          );
        expect(replayed.slice(0, 3)).toEqual([
          'assistant: Welcome.',
          'user: question 1',
          'assistant: Answer 2.',
        ]);
        const again = performance.now();
        await phone.say(speechLike(8000, 1, 6));
        await phone.until(() => audible(again + 1000).length > 5, 6000);
        expect(second.events.filter((e) => e.type === 'input_audio_buffer.append').length).toBeGreaterThan(
          40,
        );
      } finally {
        await phone.hangup();
        monitor.close();
        await relay.close();
        await fake.close();
      }
    }, 40_000);
  },
);
