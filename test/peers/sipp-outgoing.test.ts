import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import type { Relay } from '../../src/relay.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Starts a sipp UAS on a known port, then a relay whose upstream server is that sipp. */
async function setup(scenario: string, env: Record<string, string> = {}) {
  const port = await freeUdpPort();
  const peer = sipp(scenario, undefined, ['-m', '1', '-trace_msg'], 30_000, port);
  await new Promise((r) => setTimeout(r, 300)); // let sipp bind
  const relay = await startTestRelay({
    SIP_SERVER_IP: '127.0.0.1',
    SIP_TRANSFER_PORT: String(port),
    RTP_PORT_START: '40400',
    RTP_PORT_END: '40499',
    ...env,
  });
  const events: CallEvent[] = [];
  relay.calls.events$.subscribe((e) => events.push(e));
  const until = async (type: CallEvent['type'], ms = 5000) => {
    const deadline = performance.now() + ms;
    while (!events.some((e) => e.type === type) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    return events.find((e) => e.type === type);
  };
  return { relay, peer, events, until };
}

describe.skipIf(!hasBinary('sipp'))('the relay calls out through sipp as the upstream server (UAC)', () => {
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  it('180 then 200: ACK along the Record-Route, established, our BYE ends it; sipp exit 0', async () => {
    const s = await setup('uas-answer.xml');
    relay = s.relay;
    const dial = await s.relay.calls.dial('0912345678');
    expect(dial.ok).toBe(true);
    if (!dial.ok) return;
    expect(await s.until('call.answered')).toMatchObject({ callId: dial.callId, direction: 'outgoing' });
    expect(s.relay.calls.call(dial.callId)?.state).toBe('established');
    expect(s.relay.calls.hangup(dial.callId)).toBe(true);
    expect(await s.until('call.ended')).toMatchObject({ reason: 'local-hangup' });
    const r = await s.peer;
    expect(r.code, r.stdout).toBe(0);
    expect(s.events.map((e) => e.type)).toEqual([
      'call.ringing',
      'call.media',
      'call.answered',
      'call.ended',
    ]);
    expect(s.events.find((e) => e.type === 'call.media')).toMatchObject({
      codec: 'PCMU',
      dtmfPayloadType: 101,
    });
    const invite = r
      .messages()
      .split(/\n(?=-{10})/)
      .find((m) => /INVITE sip:0912345678@127\.0\.0\.1:\d+ SIP\/2\.0/.test(m));
    expect(invite).toBeDefined();
    expect(invite).toMatch(/From: <sip:relay@127\.0\.0\.1>;tag=/);
    await new Promise((r) => setTimeout(r, 50));
    expect([s.relay.calls.size, s.relay.ports.inUse]).toEqual([0, 0]);
  });

  it('486: the transaction ACKs it and the call fails with 486', async () => {
    const s = await setup('uas-busy.xml');
    relay = s.relay;
    const dial = await s.relay.calls.dial('0911222333');
    expect(dial.ok).toBe(true);
    expect(await s.until('call.ended')).toMatchObject({ reason: 'failed', status: 486 });
    expect(s.events.find((e) => e.type === 'call.failed')).toMatchObject({
      status: 486,
      reason: 'Busy Here',
    });
    const r = await s.peer;
    expect(r.code, r.stdout).toBe(0); // sipp saw the ACK with CSeq 1 ACK
  });

  it('401: the retry carries Authorization, and sipp verifies the digest (verifyauth)', async () => {
    const s = await setup('uas-auth-401.xml', { SIP_AUTH_USER: 'alice', SIP_AUTH_PASSWORD: 's3cret' });
    relay = s.relay;
    const dial = await s.relay.calls.dial('5551001');
    if (!dial.ok) throw new Error(dial.reason);
    expect(await s.until('call.answered')).toBeDefined(); // sipp answers 403 when verifyauth fails
    s.relay.calls.hangup(dial.callId);
    await s.until('call.ended');
    expect((await s.peer).code).toBe(0);
  });

  it('401 with a wrong password: sipp refuses (403) and the call fails with 403', async () => {
    const s = await setup('uas-auth-401.xml', { SIP_AUTH_USER: 'alice', SIP_AUTH_PASSWORD: 'wrong' });
    relay = s.relay;
    await s.relay.calls.dial('5551002');
    expect(await s.until('call.ended')).toMatchObject({ reason: 'failed', status: 403 });
  });

  it('407: the retried INVITE carries Proxy-Authorization with the right digest (recomputed here)', async () => {
    const s = await setup('uas-auth-407.xml', { SIP_AUTH_USER: 'alice', SIP_AUTH_PASSWORD: 's3cret' });
    relay = s.relay;
    const dial = await s.relay.calls.dial('5551000');
    expect(dial.ok).toBe(true);
    if (!dial.ok) return;
    expect(await s.until('call.answered')).toBeDefined();
    s.relay.calls.hangup(dial.callId);
    await s.until('call.ended');
    const r = await s.peer;
    expect(r.code, r.stdout).toBe(0);
    const retry = r
      .messages()
      .split(/\n(?=-{10})/)
      .find((m) => /^INVITE /m.test(m) && /Proxy-Authorization:/.test(m))!;
    expect(retry).toMatch(/CSeq: 2 INVITE/);
    const auth = /Proxy-Authorization: Digest (.*)/.exec(retry)![1]!;
    const p = Object.fromEntries([...auth.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
    const ha1 = md5('alice:pbx.test:s3cret');
    const ha2 = md5(`INVITE:${p.uri}`);
    expect(p.response).toBe(md5(`${ha1}:4f3c2b1a0d9e8f7a:${p.nc}:${p.cnonce}:auth:${ha2}`));
    expect([p.username, p.realm, p.qop, p.nc]).toEqual(['alice', 'pbx.test', 'auth', '00000001']);
  });

  it('hang-up while ringing -> CANCEL (after the 180), 487, the transaction ACKs it; ends cancelled', async () => {
    const s = await setup('uas-ring.xml');
    relay = s.relay;
    const dial = await s.relay.calls.dial('0977000111');
    if (!dial.ok) throw new Error(dial.reason);
    expect(await s.until('call.ringing')).toMatchObject({ status: 180 });
    expect(s.relay.calls.hangup(dial.callId)).toBe(true);
    expect(await s.until('call.ended')).toMatchObject({ reason: 'cancelled' });
    expect((await s.peer).code).toBe(0);
  });

  it('a 200 that crosses our CANCEL is ACKed and the call is ended with BYE', async () => {
    const s = await setup('uas-cross.xml');
    relay = s.relay;
    const dial = await s.relay.calls.dial('0977000222');
    if (!dial.ok) throw new Error(dial.reason);
    await s.until('call.ringing');
    s.relay.calls.hangup(dial.callId);
    expect(await s.until('call.ended')).toMatchObject({ reason: 'cancelled' });
    const r = await s.peer;
    expect(r.code, r.stdout).toBe(0); // sipp got the ACK and the BYE
    expect(s.events.some((e) => e.type === 'call.answered')).toBe(false);
  });

  it('183 with SDP is early media; the callee hangs up with BYE and the call ends remote-bye', async () => {
    const s = await setup('uas-early.xml');
    relay = s.relay;
    const dial = await s.relay.calls.dial('0955123123');
    if (!dial.ok) throw new Error(dial.reason);
    expect(await s.until('call.ended')).toMatchObject({ reason: 'remote-bye', direction: 'outgoing' });
    expect((await s.peer).code).toBe(0);
    expect(s.events.map((e) => e.type)).toEqual([
      'call.media',
      'call.ringing',
      'call.media',
      'call.answered',
      'call.ended',
    ]);
    expect(s.events[0]).toMatchObject({ type: 'call.media', codec: 'PCMA' }); // from the 183, before the answer
    expect(s.events[1]).toMatchObject({ type: 'call.ringing', status: 183 });
  });
});
