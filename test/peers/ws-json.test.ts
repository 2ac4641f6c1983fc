import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeG711 } from '../../src/media/g711.ts';
import { speechLike } from '../helpers/audio.ts';
import { hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { talkingCallers } from '../helpers/sipp.ts';
import { wsClient } from '../helpers/ws-client.ts';

type Msg = Record<string, unknown> & { type: string };

async function jsonClient(port: number) {
  const { ws, got, until } = await wsClient(`ws://127.0.0.1:${port}/v1`, (t) => JSON.parse(t) as Msg);
  const request = async (cmd: Record<string, unknown>) => {
    ws.send(JSON.stringify(cmd));
    return until((m) => (m.type === 'ack' || m.type === 'error') && m.id === cmd.id);
  };
  return { ws, got, until, request };
}

describe.skipIf(!hasBinary('sipp'))('typed JSON protocol at /v1', () => {
  it('events carry the call id; commands are acknowledged or answered with typed errors; audio by subscription', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-json-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 31)));
    const relay = await startTestRelay({ RTP_PORT_START: '48400', RTP_PORT_END: '48499' });
    const c = await jsonClient(relay.ws.port);
    const caller = talkingCallers(`127.0.0.1:${relay.sip.port}`, join(dir, 'voice.ulaw'));
    const incoming = await c.until((m) => m.type === 'call.incoming');
    expect(incoming).toMatchObject({
      type: 'call.incoming',
      caller: 'sipp',
      source: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
    });
    const callId = incoming!.callId as string;
    expect(await c.until((m) => m.type === 'call.answered' && m.callId === callId)).toBeDefined();
    expect(c.got.some((m) => m.type === 'call.audio')).toBe(false); // not subscribed yet
    expect(await c.request({ type: 'call.subscribe', id: 1, callId, audio: true })).toEqual({
      type: 'ack',
      id: 1,
    });
    const frame = await c.until((m) => m.type === 'call.audio');
    expect(frame).toMatchObject({ callId, format: 'pcmu' });
    expect(Buffer.from(frame!.payload as string, 'base64')).toHaveLength(160);

    const l16 = Buffer.from(new Int16Array(1600).map((_, i) => Math.round(8000 * Math.sin(i / 3))).buffer);
    expect(
      await c.request({
        type: 'call.play',
        id: 'p1',
        callId,
        format: 'l16',
        sampleRate: 16000,
        audio: l16.toString('base64'),
      }),
    ).toEqual({ type: 'ack', id: 'p1' });
    expect(await c.request({ type: 'call.clear', id: 'c1', callId })).toEqual({ type: 'ack', id: 'c1' });
    expect(await c.request({ type: 'call.dtmf', id: 'd1', callId, digits: '12#' })).toMatchObject({
      type: 'error',
      id: 'd1',
      code: 'no_dtmf',
    });
    // typed errors, connection kept
    c.ws.send('{not json');
    expect(await c.until((m) => m.type === 'error' && m.code === 'bad_json')).toBeDefined();
    expect(await c.request({ type: 'call.frobnicate', id: 'x1' })).toMatchObject({
      type: 'error',
      id: 'x1',
      code: 'bad_request',
    });
    expect(await c.request({ type: 'call.hangup', id: 'x2' })).toMatchObject({
      type: 'error',
      id: 'x2',
      code: 'bad_request',
      message: expect.stringContaining('callId'),
    });
    expect(await c.request({ type: 'call.hangup', id: 'x3', callId: 'ghost' })).toMatchObject({
      type: 'error',
      id: 'x3',
      code: 'unknown_call',
    });
    expect(
      await c.request({ type: 'call.play', id: 'x4', callId, format: 'l16', audio: 'AAAA' }),
    ).toMatchObject({ code: 'bad_audio' });
    expect(await c.request({ type: 'call.dial', id: 'x5', number: 'not a number' })).toMatchObject({
      code: 'bad_request',
    });
    expect(await c.request({ type: 'call.answer', id: 'x6', callId })).toMatchObject({
      code: 'invalid_state',
    });

    expect(await c.request({ type: 'call.hangup', id: 'h', callId })).toEqual({ type: 'ack', id: 'h' });
    expect(await c.until((m) => m.type === 'call.ended' && m.callId === callId)).toMatchObject({
      reason: 'local-hangup',
      direction: 'incoming',
    });
    expect((await caller).code).toBe(0);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
    await relay.close();
  }, 40_000);
});
