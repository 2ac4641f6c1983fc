import { describe, expect, it } from 'vitest';
import { buildResponse } from '../../../src/sip/message/build.ts';
import { timerTable } from '../../../src/sip/transaction/timers.ts';
import { parsedRequest } from '../../helpers/messages.ts';
import { txHarness } from '../../helpers/tx-harness.ts';

const T = timerTable();
const dest = { host: '127.0.0.1', port: 5999 };

function setup() {
  const h = txHarness(T);
  return { ...h, statuses: h.timeline };
}

describe('INVITE server transaction (RFC 3261 17.2.1, RFC 6026)', () => {
  it('sends 100 Trying at once and answers a retransmitted INVITE with the last provisional', () => {
    const s = setup();
    const invite = parsedRequest();
    const tx = s.layer.createServer(invite, dest);
    tx.respond(buildResponse(invite.msg, 180, { toTag: 'us' }));
    expect(s.layer.matchRequest(parsedRequest())).toBe(true);
    expect(s.statuses()).toEqual(['0:100', '0:180', '0:180']);
  });

  it('lost ACK: retransmits a 4xx on Timer G (T1 doubling up to T2) and gives up on Timer H (64*T1)', () => {
    const s = setup();
    const invite = parsedRequest();
    const events: string[] = [];
    const tx = s.layer.createServer(invite, dest, { onTimeout: () => events.push('timeout') });
    tx.respond(buildResponse(invite.msg, 486, { toTag: 'us' }));
    s.clock.advance(T.H);
    expect(s.statuses()).toEqual([
      '0:100',
      '0:486',
      '500:486',
      '1500:486',
      '3500:486',
      '7500:486',
      '11500:486',
      '15500:486',
      '19500:486',
      '23500:486',
      '27500:486',
      '31500:486',
    ]);
    expect(events).toEqual(['timeout']);
    expect(tx.state).toBe('terminated');
  });

  it('ACK for the 4xx: Confirmed, retransmissions stop, further ACKs absorbed, Timer I (T4) ends it', () => {
    const s = setup();
    const invite = parsedRequest();
    const tx = s.layer.createServer(invite, dest);
    tx.respond(buildResponse(invite.msg, 480, { toTag: 'us' }));
    s.clock.advance(600);
    expect(s.layer.matchRequest(parsedRequest({ method: 'ACK', toTag: 'us' }))).toBe(true);
    expect(tx.state).toBe('confirmed');
    expect(s.layer.matchRequest(parsedRequest({ method: 'ACK', toTag: 'us' }))).toBe(true);
    s.clock.advance(T.I);
    expect(tx.state).toBe('terminated');
    expect(s.statuses()).toEqual(['0:100', '0:480', '500:480']);
  });

  it('2xx: Accepted; INVITE retransmissions absorbed; the TU retransmits the 2xx itself; Timer L ends it', () => {
    const s = setup();
    const invite = parsedRequest();
    const acks: string[] = [];
    const tx = s.layer.createServer(invite, dest, { onAck: (a) => acks.push(a.msg.method) });
    const ok = buildResponse(invite.msg, 200, { toTag: 'us' });
    tx.respond(ok);
    expect(tx.state).toBe('accepted');
    s.layer.matchRequest(parsedRequest()); // absorbed, no resend
    tx.respond(ok); // 13.3.1.4: the UAS core retransmits the 2xx
    s.layer.matchRequest(parsedRequest({ method: 'ACK', toTag: 'us' }));
    expect(acks).toEqual(['ACK']);
    expect(s.statuses()).toEqual(['0:100', '0:200', '0:200']);
    s.clock.advance(T.L);
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE server transaction (RFC 3261 17.2.2)', () => {
  it('absorbs retransmissions in Trying, resends the final response in Completed, ends on Timer J', () => {
    const s = setup();
    const bye = parsedRequest({ method: 'BYE', toTag: 'us' });
    const tx = s.layer.createServer(bye, dest);
    expect(s.layer.matchRequest(parsedRequest({ method: 'BYE', toTag: 'us' }))).toBe(true);
    expect(s.wire).toHaveLength(0);
    tx.respond(buildResponse(bye.msg, 200));
    s.layer.matchRequest(parsedRequest({ method: 'BYE', toTag: 'us' }));
    expect(s.statuses()).toEqual(['0:200', '0:200']);
    s.clock.advance(T.J - 1);
    expect(tx.state).toBe('completed');
    s.clock.advance(1);
    expect(tx.state).toBe('terminated');
    expect(s.layer.matchRequest(parsedRequest({ method: 'BYE', toTag: 'us' }))).toBe(false);
  });

  it('resends the last provisional in Proceeding', () => {
    const s = setup();
    const req = parsedRequest({ method: 'OPTIONS' });
    const tx = s.layer.createServer(req, dest);
    tx.respond(buildResponse(req.msg, 100));
    s.layer.matchRequest(parsedRequest({ method: 'OPTIONS' }));
    expect(s.statuses()).toEqual(['0:100', '0:100']);
  });
});
