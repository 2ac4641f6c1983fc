import { beforeEach, describe, expect, it } from 'vitest';
import type { ParsedResponse } from '../../../src/sip/message/parse.ts';
import { TransactionLayer } from '../../../src/sip/transaction/layer.ts';
import { timerTable } from '../../../src/sip/transaction/timers.ts';
import { ManualClock } from '../../helpers/manual-clock.ts';
import { rawRequest, responseTo } from '../../helpers/messages.ts';
import { txHarness } from '../../helpers/tx-harness.ts';

const T = timerTable({ t1: 500, t2: 4000, t4: 5000, timerD: 32_000 });
const dest = { host: '127.0.0.1', port: 5090 };

function setup() {
  const { clock, wire, layer } = txHarness(T);
  const got: ParsedResponse[] = [];
  const events: string[] = [];
  const callbacks = {
    onResponse: (r: ParsedResponse) => got.push(r),
    onTimeout: () => events.push('timeout'),
    onTransportError: () => events.push('transport-error'),
    onTerminated: () => events.push('terminated'),
  };
  const sentTimes = (method: string) =>
    wire.filter((w) => w.msg.kind === 'request' && w.msg.method === method).map((w) => w.at);
  return { clock, wire, layer, got, events, callbacks, sentTimes };
}

describe('INVITE client transaction (RFC 3261 17.1.1, RFC 6026)', () => {
  let s: ReturnType<typeof setup>;
  beforeEach(() => {
    s = setup();
  });

  it('lost requests: retransmits on Timer A at T1, 2T1, 4T1 ... and times out on Timer B (64*T1)', () => {
    const tx = s.layer.sendRequest(rawRequest(), dest, s.callbacks);
    s.clock.advance(32_000);
    expect(s.sentTimes('INVITE')).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(s.events).toEqual(['timeout', 'terminated']);
    expect(tx.state).toBe('terminated');
    expect(s.layer.size).toBe(0);
    expect(s.clock.pending).toBe(0);
  });

  it('a provisional response stops retransmissions (Proceeding) and there is no Timer B timeout', () => {
    const tx = s.layer.sendRequest(rawRequest(), dest, s.callbacks);
    s.clock.advance(600);
    s.layer.receiveResponse(responseTo(tx.request, 180));
    s.clock.advance(60_000);
    expect(s.sentTimes('INVITE')).toEqual([0, 500]);
    expect(tx.state).toBe('proceeding');
    expect(s.got.map((r) => r.msg.status)).toEqual([180]);
  });

  it('a 4xx is ACKed inside the transaction on the same branch; a retransmitted 4xx is ACKed again', () => {
    const tx = s.layer.sendRequest(rawRequest({ branch: 'z9hG4bK-ict-4xx' }), dest, s.callbacks);
    const busy = responseTo(tx.request, 486);
    s.layer.receiveResponse(busy);
    s.layer.receiveResponse(busy); // lost ACK: the far end retransmits
    const acks = s.wire.filter((w) => w.msg.kind === 'request' && w.msg.method === 'ACK');
    expect(acks).toHaveLength(2);
    const ack = acks[0]!.msg;
    const h = (n: string) => ack.headers.find((x) => x.name === n)?.value;
    expect(h('Via')).toContain('branch=z9hG4bK-ict-4xx');
    expect(h('CSeq')).toBe('1 ACK');
    expect(h('To')).toContain('tag=far1');
    expect(ack.kind === 'request' && ack.uri).toBe('sip:relay@127.0.0.1:5062');
    expect(s.got.map((r) => r.msg.status)).toEqual([486]); // the TU hears it once
    expect(tx.state).toBe('completed');
    s.clock.advance(32_000); // Timer D
    expect(tx.state).toBe('terminated');
  });

  it('a 2xx goes to the TU (which ACKs), and 2xx retransmissions too, until Timer M', () => {
    const tx = s.layer.sendRequest(rawRequest(), dest, s.callbacks);
    const ok = responseTo(tx.request, 200);
    s.layer.receiveResponse(ok);
    s.layer.receiveResponse(ok);
    expect(s.got.map((r) => r.msg.status)).toEqual([200, 200]);
    expect(s.wire.filter((w) => w.msg.kind === 'request' && w.msg.method === 'ACK')).toHaveLength(0);
    expect(tx.state).toBe('accepted');
    s.clock.advance(T.M);
    expect(tx.state).toBe('terminated');
  });

  it('a transport error ends the transaction and tells the TU', async () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const layer = new TransactionLayer({
      clock,
      timers: T,
      transport: { send: () => Promise.reject(new Error('EHOSTUNREACH')) },
    });
    layer.sendRequest(rawRequest(), dest, {
      onResponse: () => {},
      onTransportError: () => events.push('transport-error'),
    });
    await new Promise((r) => setTimeout(r, 0));
    expect(events).toEqual(['transport-error']);
    expect(layer.size).toBe(0);
  });
});

describe('non-INVITE client transaction (RFC 3261 17.1.2)', () => {
  it('lost requests: Timer E doubles up to T2, Timer F times out at 64*T1', () => {
    const s = setup();
    s.layer.sendRequest(rawRequest({ method: 'OPTIONS' }), dest, s.callbacks);
    s.clock.advance(32_000);
    expect(s.sentTimes('OPTIONS')).toEqual([
      0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]);
    expect(s.events).toEqual(['timeout', 'terminated']);
  });

  it('in Proceeding it retransmits every T2; a final response stops it; Timer K (T4) ends it', () => {
    const s = setup();
    const tx = s.layer.sendRequest(rawRequest({ method: 'BYE' }), dest, s.callbacks);
    s.layer.receiveResponse(responseTo(tx.request, 100));
    s.clock.advance(9000);
    expect(s.sentTimes('BYE')).toEqual([0, 500, 4500, 8500]);
    s.layer.receiveResponse(responseTo(tx.request, 200));
    s.layer.receiveResponse(responseTo(tx.request, 200)); // absorbed in Completed
    expect(s.got.map((r) => r.msg.status)).toEqual([100, 200]);
    s.clock.advance(T.K);
    expect(tx.state).toBe('terminated');
    expect(s.sentTimes('BYE')).toHaveLength(4);
  });

  it('lost response: the retransmitted request draws the response that ends the transaction', () => {
    const s = setup();
    const tx = s.layer.sendRequest(rawRequest({ method: 'OPTIONS' }), dest, s.callbacks);
    s.clock.advance(1600); // the first response was lost: two retransmissions so far
    s.layer.receiveResponse(responseTo(tx.request, 200));
    expect(s.sentTimes('OPTIONS')).toEqual([0, 500, 1500]);
    expect(s.got).toHaveLength(1);
  });

  it('a response for another method or branch does not match (17.1.3)', () => {
    const s = setup();
    const tx = s.layer.sendRequest(rawRequest({ method: 'OPTIONS', branch: 'z9hG4bK-a' }), dest, s.callbacks);
    const other = responseTo({ msg: rawRequest({ method: 'OPTIONS', branch: 'z9hG4bK-b' }) }, 200);
    expect(s.layer.receiveResponse(other)).toBe(false);
    const wrongMethod = responseTo({ msg: rawRequest({ method: 'BYE', branch: 'z9hG4bK-a' }) }, 200);
    expect(s.layer.receiveResponse(wrongMethod)).toBe(false);
    expect(s.layer.receiveResponse(responseTo(tx.request, 200))).toBe(true);
  });
});
