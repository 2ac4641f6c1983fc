import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import type { Relay } from '../../src/relay.ts';
import { speechLike } from '../helpers/audio.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { type SippRun, sipp } from '../helpers/sipp.ts';
import { wsClient } from '../helpers/ws-client.ts';

type Msg = Record<string, unknown> & { type: string };

/**
 * Blind transfer out (RFC 3515): a sipp caller is the transferee. The relay sends REFER when a client asks,
 * reports the 202 and the NOTIFYs as `call.transfer` events, hangs up after a 2xx sipfrag and keeps the
 * call (media flowing) after a failure.
 */
describe.skipIf(!hasBinary('sipp'))('blind transfer out, sipp as the transferee', () => {
  let relay: Relay | undefined;
  const sockets: Array<{ close(): void }> = [];
  afterEach(async () => {
    for (const ws of sockets.splice(0)) ws.close();
    await relay?.close();
    relay = undefined;
  });

  async function setUp(scenario: string, keys: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'transfer-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 7)));
    relay = await startTestRelay({ RTP_PORT_START: '48600', RTP_PORT_END: '48699' });
    const json = await wsClient(`ws://127.0.0.1:${relay.ws.port}/v1`, (t) => JSON.parse(t) as Msg);
    const legacy = await wsClient(`ws://127.0.0.1:${relay.ws.port}/`, (t) => t);
    sockets.push(json.ws, legacy.ws);
    const media = String(await freeUdpPort());
    const caller = sipp(
      scenario,
      `127.0.0.1:${relay.sip.port}`,
      [
        ...['-s', 'relay', '-m', '1', '-mi', '127.0.0.1', '-mp', media, '-trace_msg'],
        ...['-key', 'rtp', `${join(dir, 'voice.ulaw')},-1,0`, ...keys],
      ],
      40_000,
    );
    const answered = await json.until((m) => m.type === 'call.answered');
    expect(answered).toBeDefined();
    const callId = answered!.callId as string;
    const request = async (cmd: Record<string, unknown>) => {
      json.ws.send(JSON.stringify(cmd));
      return json.until((m) => (m.type === 'ack' || m.type === 'error') && m.id === cmd.id);
    };
    const transfers = () => json.got.filter((m) => m.type === 'call.transfer' && m.callId === callId);
    return { json, legacy, caller, callId, request, transfers };
  }

  /** The call stays up after a failed transfer: RTP still comes in and still goes out. */
  async function mediaStillFlows(callId: string) {
    const s = relay!.media.session(callId)!;
    const before = { ...s.stats };
    await new Promise((r) => setTimeout(r, 400));
    expect(s.stats.received).toBeGreaterThan(before.received + 5);
    expect(s.stats.sent).toBeGreaterThan(before.sent + 5);
  }

  const referIn = (run: SippRun) =>
    run
      .messages()
      .split(/\r?\n/)
      .filter((l) => /^\s*REFER /.test(l));

  it('REFER accepted, NOTIFY 200: accepted then completed, and the relay hangs up', async () => {
    const t = await setUp('uac-refer.xml', ['-key', 'frag', '200 OK']);
    expect(await t.request({ type: 'call.transfer', id: 't1', callId: t.callId, target: '1002' })).toEqual({
      type: 'ack',
      id: 't1',
    });
    const done = await t.json.until((m) => m.type === 'call.transfer' && m.status === 'completed');
    expect(done).toMatchObject({ callId: t.callId, code: 200, target: 'sip:1002@127.0.0.1:5060' });
    expect(t.transfers().map((m) => m.status)).toEqual(['accepted', 'completed']);
    expect(await t.json.until((m) => m.type === 'call.ended')).toMatchObject({ reason: 'transferred' });
    const run = await t.caller;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const log = run.messages();
    expect(referIn(run)).toHaveLength(1);
    expect(log).toMatch(/Refer-To: <sip:1002@127\.0\.0\.1:5060>/);
    expect(log).toMatch(/Referred-By: <sip:/);
    // the REFER carries a Contact (it makes a subscription) and goes to the caller's Contact
    expect(log).toMatch(/REFER sip:sipp@127\.0\.0\.1:\d+ SIP\/2\.0[\s\S]*?Contact: </);
    // the legacy protocol sees an ordinary end of call
    expect(await t.legacy.until((m) => m === `BYE:${t.callId}`)).toBeDefined();
  });

  it('NOTIFY 486 Busy Here: failed with the code, the call stays up with media', async () => {
    const t = await setUp('uac-refer.xml', ['-key', 'frag', '486 Busy Here']);
    expect(
      await t.request({ type: 'call.transfer', id: 't1', callId: t.callId, target: '1002' }),
    ).toMatchObject({
      type: 'ack',
    });
    const failed = await t.json.until((m) => m.type === 'call.transfer' && m.status === 'failed');
    expect(failed).toMatchObject({ code: 486, reason: 'Busy Here' });
    expect(relay!.calls.call(t.callId)?.state).toBe('established');
    await mediaStillFlows(t.callId);
    expect(await t.request({ type: 'call.hangup', id: 'h', callId: t.callId })).toMatchObject({
      type: 'ack',
    });
    expect(await t.json.until((m) => m.type === 'call.ended')).toMatchObject({ reason: 'local-hangup' });
    const run = await t.caller;
    expect(run.code, run.stdout + run.stderr).toBe(0);
  });

  it('REFER refused (603), a target outside TRANSFER_ALLOWED_TARGETS, and the legacy TRANSFER command', async () => {
    const t = await setUp('uac-refer-declined.xml', []);
    // toll fraud: never leaves the relay
    expect(
      await t.request({ type: 'call.transfer', id: 'x', callId: t.callId, target: 'sip:0900123@10.1.2.3' }),
    ).toMatchObject({ type: 'error', code: 'forbidden_target' });
    expect(
      await t.request({
        type: 'call.transfer',
        id: 'y',
        callId: t.callId,
        target: 'sip:1002@127.0.0.1;maddr=10.1.2.3',
      }),
    ).toMatchObject({ type: 'error', code: 'bad_target' });
    t.legacy.ws.send(`TRANSFER:${t.callId}##sip:1@192.0.2.1`);
    expect(await t.legacy.until((m) => m.startsWith('ERROR:'))).toMatch(/not in TRANSFER_ALLOWED_TARGETS/);
    // the real one, from a legacy client: refused by the transferee
    t.legacy.ws.send(`TRANSFER:${t.callId}##1002`);
    expect(await t.legacy.until((m) => m.startsWith('TRANSFER_FAILED:'))).toBe(
      `TRANSFER_FAILED:${t.callId}##603 Decline`,
    );
    expect(await t.json.until((m) => m.type === 'call.transfer' && m.status === 'failed')).toMatchObject({
      code: 603,
    });
    expect(t.transfers().map((m) => m.status)).toEqual(['failed']);
    await mediaStillFlows(t.callId);
    expect(await t.request({ type: 'call.hangup', id: 'h', callId: t.callId })).toMatchObject({
      type: 'ack',
    });
    const run = await t.caller;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(referIn(run)).toHaveLength(1);
  });
});
