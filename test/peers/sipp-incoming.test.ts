import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import type { Relay } from '../../src/relay.ts';
import { hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

async function settled(relay: Relay, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while ((relay.calls.size > 0 || relay.ports.inUse > 0) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!hasBinary('sipp'))('sipp calls the relay (UAS)', () => {
  let relay: Relay;
  let target: string;
  const events: CallEvent[] = [];
  beforeAll(async () => {
    relay = await startTestRelay({ RTP_PORT_START: '40000', RTP_PORT_END: '40199', MAX_CALLS: '100' });
    relay.calls.events$.subscribe((e) => events.push(e));
    target = `127.0.0.1:${relay.sip.port}`;
  });
  afterAll(async () => {
    await relay.close();
  });

  it('a full call: INVITE, 100, 180, 200, ACK, pause, BYE, 200 -> sipp exit 0; events in order; ports back', async () => {
    events.length = 0;
    const r = await sipp('uac', target, ['-s', 'relay', '-m', '1', '-d', '500']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stat('SuccessfulCall(C)')).toBe('1');
    await settled(relay);
    expect(events.map((e) => e.type)).toEqual(['call.incoming', 'call.media', 'call.answered', 'call.ended']);
    expect(events.at(-1)).toMatchObject({ reason: 'remote-bye', direction: 'incoming' });
    expect([relay.calls.size, relay.ports.inUse]).toEqual([0, 0]);
  });

  it('100 calls in a row', async () => {
    const r = await sipp('uac', target, ['-s', 'relay', '-m', '100', '-l', '1', '-r', '200', '-d', '0']);
    expect(r.code, r.stdout).toBe(0);
    expect([r.stat('SuccessfulCall(C)'), r.stat('FailedCall(C)')]).toEqual(['100', '0']);
    await settled(relay);
    expect([relay.calls.size, relay.ports.inUse]).toEqual([0, 0]);
  });

  it('20 calls at once', async () => {
    let peak = 0;
    const sub = relay.calls.events$.subscribe(() => {
      peak = Math.max(peak, relay.calls.size);
    });
    const r = await sipp('uac', target, ['-s', 'relay', '-m', '20', '-l', '20', '-r', '1000', '-d', '1500']);
    sub.unsubscribe();
    expect(r.code, r.stdout).toBe(0);
    expect([r.stat('SuccessfulCall(C)'), r.stat('FailedCall(C)')]).toEqual(['20', '0']);
    expect(peak).toBe(20);
    await settled(relay);
    expect([relay.calls.size, relay.ports.inUse]).toEqual([0, 0]);
  });

  it('a lost ACK: the 200 is retransmitted until the ACK arrives', async () => {
    const r = await sipp('uac-late-ack.xml', target, ['-s', 'relay', '-m', '1', '-trace_msg']);
    expect(r.code, r.stdout).toBe(0);
    const oks = r
      .messages()
      .split(/\n(?=-{10})/)
      .filter((m) => /SIP\/2\.0 200 OK/.test(m) && /CSeq: 1 INVITE/.test(m));
    expect(oks.length).toBeGreaterThanOrEqual(2); // the original and at least one retransmission (T1 = 500 ms)
    await settled(relay);
    expect(relay.calls.size).toBe(0);
  });
});

describe.skipIf(!hasBinary('sipp'))('10 % random loss on the SIP path', () => {
  let relay: Relay;
  const ended: CallEvent[] = [];
  beforeAll(async () => {
    // T1 250 ms: a call whose ACK and BYE were both lost ends by the relay's own timers (64*T1 for the ACK,
    // then Timer F for our BYE): 32 s instead of 64 with the default 500 ms. Much shorter, and the relay
    // gives up on a lost ACK while sipp is still retransmitting its BYE, and sipp fails the call on our BYE
    relay = await startTestRelay({ RTP_PORT_START: '40300', RTP_PORT_END: '40399', SIP_T1_MS: '250' });
    relay.calls.events$.subscribe((e) => {
      if (e.type === 'call.ended') ended.push(e);
    });
  });
  afterAll(async () => {
    await relay.close();
  });

  it('every call completes at sipp, and every call ends on the relay with nothing left behind', async () => {
    const r = await sipp(
      'uac',
      `127.0.0.1:${relay.sip.port}`,
      ['-s', 'relay', '-m', '30', '-l', '10', '-r', '20', '-d', '200', '-lost', '10'],
      90_000,
    );
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    expect([r.stat('SuccessfulCall(C)'), r.stat('FailedCall(C)')]).toEqual(['30', '0']);
    expect(Number(r.stat('Retransmissions(C)'))).toBeGreaterThan(0); // loss really happened
    // sipp's built-in uac takes ANY 200 as the answer to its BYE, so when its ACK and BYE are both lost it
    // still counts the call as done; the relay then ends that call itself (no ACK in 64*T1 = 16 s -> BYE,
    // unanswered -> Timer F, another 16 s)
    await settled(relay, 75_000);
    expect([relay.calls.size, relay.ports.inUse]).toEqual([0, 0]);
    expect(ended).toHaveLength(30);
    expect(
      ended.every((e) => e.type === 'call.ended' && ['remote-bye', 'ack-timeout'].includes(e.reason)),
    ).toBe(true);
  }, 120_000);
});

describe.skipIf(!hasBinary('sipp'))('sipp cancels while the relay rings (AUTO_ANSWER=false)', () => {
  let relay: Relay;
  const events: CallEvent[] = [];
  beforeAll(async () => {
    relay = await startTestRelay({ RTP_PORT_START: '40200', RTP_PORT_END: '40299', AUTO_ANSWER: 'false' });
    relay.calls.events$.subscribe((e) => events.push(e));
  });
  afterAll(async () => {
    await relay.close();
  });

  it('CANCEL during ringing -> 200 for the CANCEL, 487 for the INVITE; the call ends cancelled', async () => {
    const r = await sipp('uac-cancel.xml', `127.0.0.1:${relay.sip.port}`, ['-s', 'relay', '-m', '1']);
    expect(r.code, r.stdout).toBe(0);
    await settled(relay);
    expect(events.map((e) => e.type)).toEqual(['call.incoming', 'call.cancelled', 'call.ended']);
    expect(events.at(-1)).toMatchObject({ reason: 'cancelled' });
    expect([relay.calls.size, relay.ports.inUse]).toEqual([0, 0]);
  });
});
