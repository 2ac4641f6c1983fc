import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import type { Relay } from '../../src/relay.ts';
import { speechLike, wavFile } from '../helpers/audio.ts';
import { baresipConfig } from '../helpers/baresip.ts';
import { freeSipPort, freeUdpPort, hasBinary, run } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, type SippRun, sipp } from '../helpers/sipp.ts';
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
    const caller = relayCaller(scenario, relay.sip.port, join(dir, 'voice.ulaw'), {
      keys: keys,
      timeoutMs: 40_000,
    });
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

/**
 * A PBX transfers the relay's call (RFC 3515, the relay as transferee): 202, a new call to the Refer-To
 * target with the REFER's Referred-By, NOTIFYs 100/180/200 back; the old call ends, the new one goes on.
 */
describe.skipIf(!hasBinary('sipp'))('incoming REFER, sipp as transferor and as target', () => {
  it('202, the target called with Referred-By, NOTIFY 100/180/200, the old call ends with BYE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refer-in-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 3)));
    const targetPort = await freeUdpPort();
    const target = sipp('uas-referred.xml', undefined, ['-m', '1', '-trace_msg'], 30_000, targetPort);
    await new Promise((r) => setTimeout(r, 300));
    const relay = await startTestRelay({ RTP_PORT_START: '48900', RTP_PORT_END: '48999' });
    const events: Array<Record<string, unknown> & { type: string }> = [];
    relay.calls.events$.subscribe((e) => events.push({ ...e }));
    try {
      const run = await relayCaller('uac-refer-in.xml', relay.sip.port, join(dir, 'voice.ulaw'), {
        keys: ['-key', 'target', `sip:1002@127.0.0.1:${targetPort}`],
      });

      expect(run.code, run.stdout + run.stderr).toBe(0);
      const original = events.find((e) => e.type === 'call.incoming')!.callId as string;
      const referred = events.filter((e) => e.type === 'call.referred');
      expect(referred.map((e) => e.status)).toEqual(['accepted', 'completed']);
      const newCallId = referred[1]!.newCallId as string;
      expect(newCallId).toBeTruthy();
      expect(referred[1]).toMatchObject({
        callId: original,
        target: `sip:1002@127.0.0.1:${targetPort}`,
        code: 200,
      });
      expect(events.find((e) => e.type === 'call.ended' && e.callId === original)).toMatchObject({
        reason: 'transferred',
      });
      // the new call is an ordinary call: answered, up, and ours to hang up
      expect(events.find((e) => e.type === 'call.answered' && e.callId === newCallId)).toBeDefined();
      expect(relay.calls.call(newCallId)?.state).toBe('established');
      expect(run.messages()).toMatch(/Event: refer[\s\S]*?Subscription-State: terminated/);
      expect(relay.calls.hangup(newCallId)).toBe(true);
      const t = await target;
      expect(t.code, t.stdout + t.stderr).toBe(0);
    } finally {
      await relay.close();
    }
  });

  it('a REFER to a target outside TRANSFER_ALLOWED_TARGETS gets 403 and nobody is called', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refer-in-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 4)));
    const relay = await startTestRelay({ RTP_PORT_START: '48900', RTP_PORT_END: '48999' });
    const events: Array<{ type: string }> = [];
    relay.calls.events$.subscribe((e) => events.push(e));
    try {
      const run = await relayCaller('uac-refer-in-forbidden.xml', relay.sip.port, join(dir, 'voice.ulaw'), {
        timeoutMs: 20_000,
        keys: ['-key', 'target', 'sip:0900123@10.9.9.9'],
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(events.filter((e) => e.type === 'call.referred')).toEqual([]);
      expect(events.filter((e) => e.type === 'call.incoming')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'call.ringing')).toHaveLength(0); // no call out
    } finally {
      await relay.close();
    }
  });
});

describe.skipIf(!hasBinary('baresip'))('blind transfer out, baresip as the transferee', () => {
  it('baresip takes the REFER, calls the target (a second baresip) and reports 200: the relay hangs up', async () => {
    const callerDir = mkdtempSync(join(tmpdir(), 'bt-caller-'));
    const humanDir = mkdtempSync(join(tmpdir(), 'bt-human-'));
    writeFileSync(join(callerDir, 'mic.wav'), wavFile(speechLike(8000, 8, 1), 8000));
    writeFileSync(join(humanDir, 'mic.wav'), wavFile(speechLike(8000, 8, 2), 8000));
    const relay = await startTestRelay({ RTP_PORT_START: '48600', RTP_PORT_END: '48699' });
    const json = await wsClient(`ws://127.0.0.1:${relay.ws.port}/v1`, (t) => JSON.parse(t) as Msg);
    const humanPort = await freeSipPort();
    const humanUa = baresipConfig(humanDir, humanPort, join(humanDir, 'mic.wav'), 'pcmu', {
      answermode: 'auto',
    });
    const human = run('baresip', ['-f', humanUa, '-t', '8'], { cwd: humanDir, timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 700));
    const callerUa = baresipConfig(callerDir, await freeSipPort(), join(callerDir, 'mic.wav'), 'pcmu');
    const caller = run(
      'baresip',
      ['-f', callerUa, '-e', `/dial sip:relay@127.0.0.1:${relay.sip.port}`, '-t', '7'],
      {
        cwd: callerDir,
        timeoutMs: 20_000,
      },
    );
    try {
      const answered = await json.until((m) => m.type === 'call.answered', 8000);
      const callId = answered!.callId as string;
      json.ws.send(
        JSON.stringify({ type: 'call.transfer', id: 1, callId, target: `sip:alice@127.0.0.1:${humanPort}` }),
      );
      expect(await json.until((m) => m.type === 'call.ended', 8000)).toMatchObject({ reason: 'transferred' });
      expect(
        json.got.filter((m) => m.type === 'call.transfer').map((m) => [m.status, m.code ?? null]),
      ).toEqual([
        ['accepted', null],
        ['completed', 200],
      ]);
      const c = await caller;
      const h = await human;
      expect(c.code, c.stdout.slice(-1500)).toBe(0);
      // the caller reached the human directly; the relay is out of the call
      expect(c.stdout).toMatch(new RegExp(`Call established: sip:alice@127\\.0\\.0\\.1:${humanPort}`));
      expect(h.stdout).toMatch(/Call established: sip:alice@127\.0\.0\.1:\d+/);
    } finally {
      json.ws.close();
      await relay.close();
    }
  });
});
