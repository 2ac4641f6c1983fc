import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import { speechLike, wavFile } from '../helpers/audio.ts';
import { hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller } from '../helpers/sipp.ts';

type Msg = Record<string, unknown> & { type: string };

/** The relay's own channel (right) of a stereo recording, from the 44-byte header on. */
function sentChannel(wav: Buffer): Int16Array {
  const pcm = new Int16Array(wav.buffer.slice(wav.byteOffset + 44, wav.byteOffset + wav.length));
  return pcm.filter((_, i) => i % 2 === 1);
}

const rms = (x: Int16Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / Math.max(1, x.length));

describe.skipIf(!hasBinary('sipp'))('hold from our side (RFC 3264 8.4), with sipp', () => {
  it('call.hold: re-INVITE a=sendonly and music on hold; call.resume: a=sendrecv; glare: 491 both ways, retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hold-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 9)));
    const tone = new Int16Array(8000).map((_, i) =>
      Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000)),
    );
    writeFileSync(join(dir, 'moh.wav'), wavFile(tone, 8000));
    const relay = await startTestRelay({
      RTP_PORT_START: '48800',
      RTP_PORT_END: '48899',
      HOLD_MUSIC_PATH: join(dir, 'moh.wav'),
      RECORDING: 'true',
      RECORDING_STEREO: 'true',
      RECORDING_DIR: join(dir, 'rec'),
    });
    const events: CallEvent[] = [];
    relay.calls.events$.subscribe((e) => events.push(e));
    const { wsClient } = await import('../helpers/ws-client.ts');
    const c = await wsClient(`ws://127.0.0.1:${relay.ws.port}/v1`, (t) => JSON.parse(t) as Msg);
    const request = async (cmd: Record<string, unknown>) => {
      c.ws.send(JSON.stringify(cmd));
      return c.until((m) => (m.type === 'ack' || m.type === 'error') && m.id === cmd.id);
    };
    try {
      const caller = relayCaller('uac-hold.xml', relay.sip.port, join(dir, 'voice.ulaw'), {
        timeoutMs: 30_000,
      });
      const answered = await c.until((m) => m.type === 'call.answered');
      const callId = answered!.callId as string;
      const holds = () => c.got.filter((m) => m.type === 'call.hold').map((m) => m.status);
      expect(await request({ type: 'call.resume', id: 'r0', callId })).toMatchObject({
        code: 'invalid_state',
      });
      expect(await request({ type: 'call.hold', id: 'h1', callId })).toMatchObject({ type: 'ack' });
      expect(await c.until(() => holds().length === 1)).toBeDefined();
      expect(holds()).toEqual(['held']);
      // we send (music), the held caller does not: our direction is sendonly
      expect(events.filter((e) => e.type === 'call.media').at(-1)).toMatchObject({ direction: 'sendonly' });
      expect(await request({ type: 'call.hold', id: 'h2', callId })).toMatchObject({ code: 'invalid_state' });
      await new Promise((r) => setTimeout(r, 800)); // music on hold plays
      expect(await request({ type: 'call.resume', id: 'r1', callId })).toMatchObject({ type: 'ack' });
      expect(await c.until(() => holds().length === 2)).toBeDefined();
      expect(events.filter((e) => e.type === 'call.media').at(-1)).toMatchObject({ direction: 'sendrecv' });
      // glare: the caller's re-INVITE crosses ours; both get 491; ours is sent again after 0-2 s
      expect(await request({ type: 'call.hold', id: 'h3', callId })).toMatchObject({ type: 'ack' });
      expect(await c.until(() => holds().length === 3, 6000)).toBeDefined();
      expect(holds()).toEqual(['held', 'resumed', 'held']);
      const run = await caller;
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const log = run.messages();
      // the o= version goes up with every offer of ours (RFC 3264 8)
      const versions = [...log.matchAll(/o=sip-relay \d+ (\d+) IN/g)].map((m) => Number(m[1]));
      expect(versions.length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
      expect(log).toMatch(/SIP\/2\.0 491 Request Pending[\s\S]*?CSeq: 2 INVITE/);
      expect(await c.until((m) => m.type === 'call.ended')).toMatchObject({ reason: 'remote-bye' });
    } finally {
      c.ws.close();
      await relay.close();
    }
    // the held caller heard the music: the relay's channel carries the tone (silence otherwise: no greeting)
    const file = readdirSync(join(dir, 'rec')).find((f) => f.endsWith('.wav'))!;
    const sent = sentChannel(readFileSync(join(dir, 'rec', file)));
    expect(rms(sent)).toBeGreaterThan(300);
  });

  it('the caller holds us first: our hold offers a=inactive and our resume a=recvonly (RFC 3264 8.4)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'held-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 10)));
    const relay = await startTestRelay({ RTP_PORT_START: '48800', RTP_PORT_END: '48899' });
    const events: CallEvent[] = [];
    relay.calls.events$.subscribe((e) => events.push(e));
    try {
      const caller = relayCaller('uac-held-hold.xml', relay.sip.port, join(dir, 'voice.ulaw'), {
        timeoutMs: 20_000,
      });
      // the caller's hold arrives: our direction becomes recvonly
      await until(() => events.some((e) => e.type === 'call.media' && e.direction === 'recvonly'), 5000);
      const callId = events.find((e) => e.type === 'call.answered')!.callId;
      expect(relay.calls.hold(callId, true)).toEqual({ ok: true });
      await until(() => events.some((e) => e.type === 'call.hold' && e.status === 'held'), 5000);
      expect(events.filter((e) => e.type === 'call.media').at(-1)).toMatchObject({ direction: 'inactive' });
      expect(relay.calls.hold(callId, false)).toEqual({ ok: true });
      await until(() => events.some((e) => e.type === 'call.hold' && e.status === 'resumed'), 5000);
      expect(events.filter((e) => e.type === 'call.media').at(-1)).toMatchObject({ direction: 'recvonly' });
      const run = await caller;
      expect(run.code, run.stdout + run.stderr).toBe(0);
    } finally {
      await relay.close();
    }
  });
});
