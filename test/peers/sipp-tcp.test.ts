import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import type { Relay } from '../../src/relay.ts';
import { freeSipPort, hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

describe.skipIf(!hasBinary('sipp'))('sipp calls the relay over TCP (RFC 3261 18)', () => {
  let relay: Relay;
  let target: string;
  const events: CallEvent[] = [];
  beforeAll(async () => {
    relay = await startTestRelay({ RTP_PORT_START: '40800', RTP_PORT_END: '40999' });
    relay.calls.events$.subscribe((e) => events.push(e));
    target = `127.0.0.1:${relay.sip.port}`;
  });
  afterAll(async () => {
    await relay.close();
  });

  it('20 full calls on one TCP connection (-t t1): all succeed, nothing left after', async () => {
    events.length = 0;
    const r = await sipp('uac', target, [
      '-t',
      't1',
      '-s',
      'relay',
      '-m',
      '20',
      '-r',
      '10',
      '-l',
      '20',
      '-d',
      '500',
    ]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stat('SuccessfulCall(C)')).toBe('20');
    expect(r.stat('FailedCall(C)')).toBe('0');
    await until(() => relay.calls.size === 0 && relay.ports.inUse === 0, 3000);
    expect(events.filter((e) => e.type === 'call.ended').length).toBe(20);
    expect(events.filter((e) => e.type === 'call.ended' && e.reason !== 'remote-bye')).toEqual([]);
  });

  it('one connection per call (-t tn): 10 calls', async () => {
    const r = await sipp('uac', target, [
      '-t',
      'tn',
      '-max_socket',
      '100',
      '-s',
      'relay',
      '-m',
      '10',
      '-r',
      '10',
      '-d',
      '200',
    ]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stat('SuccessfulCall(C)')).toBe('10');
  });

  it('an INVITE over 1,300 bytes: one full call over TCP', async () => {
    const r = await sipp('uac-big-invite.xml', target, [
      '-t',
      't1',
      '-s',
      'relay',
      '-m',
      '1',
      '-d',
      '300',
      '-trace_msg',
    ]);
    expect(r.code, r.stdout).toBe(0);
    const invite = /TCP message sent \((\d+) bytes\):\s*\n\s*INVITE/.exec(r.messages());
    expect(Number(invite?.[1])).toBeGreaterThan(1300);
    expect(r.messages()).toMatch(/Contact: <sip:relay@127\.0\.0\.1:\d+;transport=tcp>/);
  });
});

describe.skipIf(!hasBinary('sipp'))('the relay calls out over TCP (SIP_SERVER_TRANSPORT=tcp)', () => {
  it('INVITE, 180, 200, ACK and our BYE all on one TCP connection; sipp exit 0', async () => {
    const port = await freeSipPort();
    const peer = sipp('uas-answer.xml', undefined, ['-t', 't1', '-m', '1', '-trace_msg'], 30_000, port);
    await new Promise((r) => setTimeout(r, 300));
    const relay = await startTestRelay({
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(port),
      SIP_SERVER_TRANSPORT: 'tcp',
      RTP_PORT_START: '40800',
      RTP_PORT_END: '40899',
    });
    try {
      const events: CallEvent[] = [];
      relay.calls.events$.subscribe((e) => events.push(e));
      const dial = await relay.calls.dial('0912345678');
      expect(dial.ok).toBe(true);
      await until(() => events.some((e) => e.type === 'call.answered'), 5000);
      if (dial.ok) expect(relay.calls.hangup(dial.callId)).toBe(true);
      await until(() => events.some((e) => e.type === 'call.ended'), 5000);
      const r = await peer;
      expect(r.code, r.stdout).toBe(0);
      const log = r.messages();
      expect(log).toMatch(/Via: SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=/);
      expect(log).toMatch(/Contact: <sip:relay@127\.0\.0\.1:\d+;transport=tcp>/);
      // everything sipp received came over TCP (no UDP message in its trace)
      expect(log).not.toMatch(/UDP message received/);
      expect((log.match(/TCP message received/g) ?? []).length).toBeGreaterThanOrEqual(3); // INVITE, ACK, BYE
      expect(relay.transports.tcp!.connections).toBeLessThanOrEqual(1);
      expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'local-hangup' });
    } finally {
      await relay.close();
    }
  });
});
