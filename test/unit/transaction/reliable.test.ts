import { describe, expect, it } from 'vitest';
import type { ParsedRequest } from '../../../src/sip/message/parse.ts';
import { timerTable } from '../../../src/sip/transaction/timers.ts';
import { parsedRequest, rawRequest, responseTo } from '../../helpers/messages.ts';
import { txHarness } from '../../helpers/tx-harness.ts';

// RFC 3261 17 over TCP/TLS: no retransmission timers (A, E, G); D, I, J, K are zero; B, F, H still run.
const T = timerTable();
const tcp = { host: '127.0.0.1', port: 5090, transport: 'tcp' as const, flow: 7 };
const udp = { host: '127.0.0.1', port: 5090 };
const ok = (req: ParsedRequest, status: number) => responseTo(req, status).msg;

describe('transactions over a reliable transport (RFC 3261 17.1.1.2, 17.1.2.2, 17.2.1, 17.2.2)', () => {
  it('INVITE client: no Timer A, still Timer B; a 4xx ends it at once (Timer D = 0)', () => {
    const h = txHarness(T);
    const events: string[] = [];
    h.layer.sendRequest(rawRequest(), tcp, { onResponse: () => {}, onTimeout: () => events.push('timeout') });
    h.clock.advance(31_999);
    expect(h.timeline()).toEqual(['0:INVITE']);
    h.clock.advance(1);
    expect(events).toEqual(['timeout']);
    const tx = h.layer.sendRequest(rawRequest({ branch: 'z9hG4bK-2' }), tcp, { onResponse: () => {} });
    h.layer.receiveResponse(responseTo(tx.request, 486));
    expect(tx.state).toBe('completed');
    h.clock.advance(0);
    expect([tx.state, h.layer.size]).toEqual(['terminated', 0]);
  });

  it('non-INVITE client: no Timer E, Timer F at 64*T1; a final response ends it at once (Timer K = 0)', () => {
    const h = txHarness(T);
    const tx = h.layer.sendRequest(rawRequest({ method: 'OPTIONS' }), tcp, { onResponse: () => {} });
    h.clock.advance(10_000);
    expect(h.timeline()).toEqual(['0:OPTIONS']);
    h.layer.receiveResponse(responseTo(tx.request, 200));
    h.clock.advance(0);
    expect(h.layer.size).toBe(0);
  });

  it('INVITE server: a 4xx is not retransmitted (no Timer G), Timer H still ends it; ACK ends it at once', () => {
    const h = txHarness(T);
    const req = parsedRequest();
    const tx = h.layer.createServer(req, tcp);
    tx.respond(ok(req, 486));
    h.clock.advance(10_000);
    expect(h.timeline()).toEqual(['0:100', '0:486']);
    h.clock.advance(22_000);
    expect(h.layer.size).toBe(0);
    const req2 = parsedRequest({ branch: 'z9hG4bK-2' });
    const tx2 = h.layer.createServer(req2, tcp);
    tx2.respond(ok(req2, 486));
    h.layer.matchRequest(parsedRequest({ branch: 'z9hG4bK-2', method: 'ACK', cseqMethod: 'ACK' }));
    expect(tx2.state).toBe('confirmed');
    h.clock.advance(0);
    expect(h.layer.size).toBe(0);
  });

  it('non-INVITE server: gone as soon as it answers (Timer J = 0); over UDP it waits 64*T1', () => {
    const h = txHarness(T);
    const req = parsedRequest({ method: 'OPTIONS' });
    h.layer.createServer(req, tcp).respond(ok(req, 200));
    const req2 = parsedRequest({ method: 'OPTIONS', branch: 'z9hG4bK-u' });
    h.layer.createServer(req2, udp).respond(ok(req2, 200));
    h.clock.advance(0);
    expect(h.layer.size).toBe(1);
    h.clock.advance(32_000);
    expect(h.layer.size).toBe(0);
  });
});
