import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { encodeG711 } from '../../src/media/g711.ts';
import { speechLike } from '../helpers/audio.ts';
import { hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { talkingCallers } from '../helpers/sipp.ts';

type Frame = Record<string, unknown> & { event: string };

/** A small bot written from Twilio's public Media Streams spec: it talks, marks, and interrupts itself. */
async function bot() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.on('listening', r));
  const frames: Frame[] = [];
  const marks: Array<{ name: string; at: number }> = [];
  let socket: WebSocket | undefined;
  wss.on('connection', (ws) => {
    socket = ws;
    ws.on('message', (d) => {
      const f = JSON.parse(String(d)) as Frame;
      frames.push(f);
      if (f.event === 'mark') marks.push({ name: (f.mark as { name: string }).name, at: performance.now() });
    });
  });
  const port = (wss.address() as { port: number }).port;
  const streamSid = () => (frames.find((f) => f.event === 'start')?.streamSid as string) ?? '';
  const say = (ulaw: Uint8Array, chunk = 100) => {
    for (let i = 0; i < ulaw.length; i += chunk) {
      const payload = Buffer.from(ulaw.subarray(i, i + chunk)).toString('base64');
      socket!.send(JSON.stringify({ event: 'media', streamSid: streamSid(), media: { payload } }));
    }
  };
  const mark = (name: string) =>
    socket!.send(JSON.stringify({ event: 'mark', streamSid: streamSid(), mark: { name } }));
  const clear = () => socket!.send(JSON.stringify({ event: 'clear', streamSid: streamSid() }));
  const drop = () => socket!.terminate();
  return { wss, port, frames, marks, say, mark, clear, drop };
}

const until = async (pred: () => boolean, ms = 8000) => {
  const end = performance.now() + ms;
  while (!pred() && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  return pred();
};

describe.skipIf(!hasBinary('sipp'))('Twilio-compatible media stream (MEDIA_STREAM_URL)', () => {
  it('connected, start, inbound media; marks come back after playout; clear empties the queue at once; stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stream-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 41)));
    const b = await bot();
    const relay = await startTestRelay({
      MEDIA_STREAM_URL: `ws://127.0.0.1:${b.port}/stream`,
      RTP_PORT_START: '48600',
      RTP_PORT_END: '48699',
      GREETING_PATH: join(dir, 'none.wav'),
    });
    const caller = talkingCallers(`127.0.0.1:${relay.sip.port}`, join(dir, 'voice.ulaw'));
    expect(await until(() => b.frames.filter((f) => f.event === 'media').length >= 20)).toBe(true);
    expect(b.frames[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const start = b.frames[1]!;
    expect(start).toMatchObject({
      event: 'start',
      sequenceNumber: '1',
      start: {
        tracks: ['inbound'],
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    expect(String(start.streamSid)).toMatch(/^MZ[0-9a-f]{32}$/);
    const media = b.frames.filter((f) => f.event === 'media');
    expect(media[0]).toMatchObject({ sequenceNumber: '2', media: { track: 'inbound', chunk: '1' } });
    expect(Buffer.from((media[0]!.media as { payload: string }).payload, 'base64')).toHaveLength(160);
    const callId = relay.calls.list()[0]!.callId;
    const queue = relay.media.session(callId)!.queue;

    // 1 s of bot audio in odd-sized chunks, then a mark: it must come back only once that second has played
    const sent1 = performance.now();
    b.say(encodeG711('PCMU', speechLike(8000, 1, 7)));
    b.mark('m1');
    expect(await until(() => b.marks.some((m) => m.name === 'm1'), 3000)).toBe(true);
    const m1 = b.marks.find((m) => m.name === 'm1')!.at - sent1;
    expect(m1).toBeGreaterThan(900);
    expect(m1).toBeLessThan(1500);

    // 3 s more and a mark, then barge-in: clear empties the queue within 20 ms and echoes the mark
    b.say(encodeG711('PCMU', speechLike(8000, 3, 8)));
    b.mark('m2');
    await new Promise((r) => setTimeout(r, 200));
    expect(queue.queuedFrames).toBeGreaterThan(100);
    const cleared = performance.now();
    b.clear();
    expect(await until(() => queue.queuedFrames === 0, 1000)).toBe(true);
    const emptyAfter = performance.now() - cleared;
    expect(await until(() => b.marks.some((m) => m.name === 'm2'), 1000)).toBe(true);
    console.log(
      `m1 after ${m1.toFixed(0)} ms (1 s of audio); queue empty ${emptyAfter.toFixed(1)} ms after clear`,
    );
    // at once, not after the queued audio played out (seconds): the bound leaves room for a busy machine
    expect(emptyAfter).toBeLessThan(500);

    // the bot drops mid-call: the relay reconnects (backoff from 0.5 s) and starts the stream again
    b.drop();
    expect(await until(() => b.frames.filter((f) => f.event === 'start').length === 2, 3000)).toBe(true);

    relay.calls.hangup(callId);
    expect(await until(() => b.frames.some((f) => f.event === 'stop'))).toBe(true);
    expect((await caller).code).toBe(0);
    await relay.close();
    b.wss.close();
  }, 40_000);
});
