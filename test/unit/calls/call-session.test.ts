import { describe, expect, it } from 'vitest';
import { header } from '../../../src/sip/message/headers.ts';
import type { ParsedRequest, ParsedResponse } from '../../../src/sip/message/parse.ts';
import { type CallHarness, callHarness, OFFER, upstreamReply } from '../../helpers/call-harness.ts';
import { requestText } from '../../helpers/messages.ts';

// The dialog rules of RFC 3261 (12.2.2, 13.3.1.4, 14.2) and the UAC's retries, driven through the call
// manager and the SIP core with a manual clock: no socket, no real timer.

const text = (m: ParsedResponse | ParsedRequest) => new TextDecoder().decode(m.msg.body);

/** Drives one incoming call from a phone at 127.0.0.1:5999. */
function phone(h: CallHarness, callId = 'call-1@127.0.0.1') {
  let branch = 0;
  let toTag: string | undefined;
  const send = (o: Parameters<typeof requestText>[0]) =>
    h.deliver(
      requestText({
        callId,
        branch: `z9hG4bK-${callId.replace(/\W/g, '')}-${++branch}`,
        ...(toTag ? { toTag } : {}),
        ...o,
      }),
    );
  return {
    callId,
    send,
    /** INVITE (null: without SDP), then the ring delay: returns the final response. */
    async invite(offer: string | null = OFFER(), extra: string[] = []) {
      const body = offer ?? undefined;
      const n = h.sent.length;
      send({
        method: 'INVITE',
        ...(body ? { body, extra: ['Content-Type: application/sdp', ...extra] } : { extra }),
      });
      await h.settle();
      h.clock.advance(100);
      const final = h.responses(h.since(n)).find((r) => r.msg.status >= 200);
      toTag = final?.toTag;
      return final;
    },
    get toTag() {
      return toTag;
    },
    /** A re-INVITE: its final response. */
    reinvite(cseq: number, body?: string) {
      return h
        .responses(
          send({
            method: 'INVITE',
            cseq,
            ...(body ? { body, extra: ['Content-Type: application/sdp'] } : {}),
          }),
        )
        .find((r) => r.msg.status >= 200);
    },
    ack(cseq = 1, body?: string) {
      return send({
        method: 'ACK',
        cseq,
        branch: `z9hG4bK-${callId.replace(/\W/g, '')}-ack-${++branch}`,
        ...(body ? { body, extra: ['Content-Type: application/sdp'] } : {}),
      });
    },
  };
}

/** Times (ms on the manual clock) at which a 2xx with this CSeq number was (re)sent, over `ms`. */
function okTimes(h: CallHarness, cseq: number, ms: number, step = 50): number[] {
  const times: number[] = [];
  const start = h.clock.now();
  for (let t = 0; t < ms; t += step) {
    const n = h.sent.length;
    h.clock.advance(step);
    for (const r of h.responses(h.since(n)))
      if (r.msg.status === 200 && r.cseq.seq === cseq && r.cseq.method === 'INVITE')
        times.push(h.clock.now() - start);
  }
  return times;
}

describe('UAS dialog rules (RFC 3261 13.3.1.4, 12.2.2, 14.2)', () => {
  it('a 2xx is retransmitted at T1, doubling up to T2, until its ACK; an ACK stops it', async () => {
    const h = callHarness();
    const p = phone(h);
    const ok = await p.invite();
    expect(ok?.msg.status).toBe(200);
    // T1 = 500, T2 = 4000: 500, 1500, 3500, 7500, 11500
    expect(okTimes(h, 1, 12_000)).toEqual([500, 1500, 3500, 7500, 11_500]);
    p.ack();
    expect(okTimes(h, 1, 40_000)).toEqual([]);
    expect(h.calls.call(p.callId)?.state).toBe('established');
  });

  it('no ACK within 64*T1: BYE, and the call ends ack-timeout', async () => {
    const h = callHarness();
    const p = phone(h);
    await p.invite();
    const n = h.sent.length;
    h.clock.advance(31_900);
    expect(h.requests(h.since(n), 'BYE')).toEqual([]);
    h.clock.advance(200);
    const [bye] = h.requests(h.since(n), 'BYE');
    expect(bye?.cseq.method).toBe('BYE');
    expect(bye?.fromTag).toBe(p.toTag);
    h.deliver(
      `SIP/2.0 200 OK\r\n${bye!.msg.headers
        .filter((x) => /^(via|from|to|call-id|cseq)$/i.test(x.name))
        .map((x) => `${x.name}: ${x.value}`)
        .join('\r\n')}\r\nContent-Length: 0\r\n\r\n`,
    );
    await h.settle();
    expect(h.events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'ack-timeout' });
    expect(h.calls.size).toBe(0);
    expect(h.released).toHaveLength(1);
  });

  it('delayed offer: our offer goes in the 200, the answer in the ACK; an ACK without one ends the call', async () => {
    const h = callHarness();
    const p = phone(h);
    const ok = await p.invite(null);
    expect(text(ok!)).toMatch(/m=audio \d+ RTP\/AVP 0 8 101/);
    p.ack(1, OFFER('8'));
    expect(h.calls.call(p.callId)?.media).toMatchObject({ codec: 'PCMA', remote: { port: 7000 } });

    const q = phone(h, 'call-2@127.0.0.1');
    await q.invite(null);
    const n = h.sent.length;
    q.ack(1);
    expect(h.requests(h.since(n), 'BYE')).toHaveLength(1);
  });

  it('re-INVITE: a fresh answer; another before its ACK gets 491 with Retry-After; then it works again', async () => {
    const h = callHarness();
    const p = phone(h);
    await p.invite();
    p.ack();
    const hold = p.reinvite(2, OFFER('0', ['a=sendonly']));
    expect(hold?.msg.status).toBe(200);
    expect(text(hold!)).toMatch(/a=recvonly/);
    const glare = p.reinvite(3, OFFER());
    expect(glare?.msg.status).toBe(491);
    expect(header(glare!.msg, 'retry-after')).toBe('1');
    p.ack(2);
    const resume = p.reinvite(4, OFFER());
    expect(resume?.msg.status).toBe(200);
    expect(text(resume!)).toMatch(/a=sendrecv/);
    p.ack(4);
    const directions = h.events.flatMap((e) => (e.type === 'call.media' ? [e.direction] : []));
    expect(directions).toEqual(['sendrecv', 'recvonly', 'sendrecv']);
  });

  it('re-INVITE without SDP: our offer in the 200, the answer in the ACK', async () => {
    const h = callHarness();
    const p = phone(h);
    await p.invite();
    p.ack();
    const ok = p.reinvite(2);
    expect(text(ok!)).toMatch(/m=audio \d+ RTP\/AVP 0 8 101/);
    p.ack(2, OFFER('8', [], 7010));
    expect(h.calls.call(p.callId)?.media).toMatchObject({ codec: 'PCMA', remote: { port: 7010 } });
  });

  it("a re-INVITE's 2xx is retransmitted until its ACK; none within 64*T1 hangs up", async () => {
    const h = callHarness();
    const p = phone(h);
    await p.invite();
    p.ack();
    p.reinvite(2, OFFER());
    expect(okTimes(h, 2, 4000)).toEqual([500, 1500, 3500]);
    const n = h.sent.length;
    h.clock.advance(27_900); // 31.9 s after the 200
    expect(h.requests(h.since(n), 'BYE')).toEqual([]);
    h.clock.advance(200);
    // one BYE (its own transaction retransmits it while unanswered)
    const byes = h.requests(h.since(n), 'BYE');
    expect(new Set(byes.map((b) => header(b.msg, 'via'))).size).toBe(1);
  });

  it('a request with a CSeq lower than the last one gets 500; an unknown dialog 481', async () => {
    const h = callHarness();
    const p = phone(h);
    await p.invite();
    p.ack();
    expect(h.responses(p.send({ method: 'OPTIONS', cseq: 5 }))[0]?.msg.status).toBe(200);
    const [late] = h.responses(p.send({ method: 'OPTIONS', cseq: 4 }));
    expect(late?.msg.status).toBe(500);
    const [stray] = h.responses(h.deliver(requestText({ method: 'BYE', toTag: 'nope', callId: 'other' })));
    expect(stray?.msg.status).toBe(481);
  });

  it('INFO application/dtmf-relay and application/dtmf: 200 and a dtmf event each; other bodies 415', async () => {
    const h = callHarness();
    const p = phone(h);
    await p.invite();
    p.ack();
    const info = (cseq: number, type: string, body: string) =>
      h.responses(p.send({ method: 'INFO', cseq, body, extra: [`Content-Type: ${type}`] }))[0]?.msg.status;
    expect(info(2, 'application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toBe(200);
    expect(info(3, 'application/dtmf', '#')).toBe(200);
    expect(info(4, 'text/plain', 'Signal=7')).toBe(415); // the core's Accept policy
    expect(h.events.flatMap((e) => (e.type === 'call.dtmf' ? [e.digit] : []))).toEqual(['5', '#']);
  });
});

describe('our offers (RFC 3264 8)', () => {
  /** The o= version of an SDP body. */
  const version = (m: ParsedResponse | ParsedRequest) => Number(/^o=\S+ \S+ (\d+)/m.exec(text(m))?.[1]);

  it('each offer we send has the o= version one above our last SDP: one that could not go out (an INVITE in flight) burns none', async () => {
    const h = callHarness();
    const p = phone(h);
    // refresher=uas: we refresh at half the interval, by re-INVITE (the phone allows no UPDATE)
    const ok = await p.invite(OFFER(), ['Supported: timer', 'Session-Expires: 90;refresher=uas']);
    expect(ok?.msg.status).toBe(200);
    p.ack(1);
    // hold: our re-INVITE goes out; the phone answers 180 and then nothing for a while (no Timer B then)
    let n = h.sent.length;
    expect(h.calls.hold(p.callId, true).ok).toBe(true);
    const [hold] = h.requests(h.since(n), 'INVITE');
    expect(version(hold!)).toBe(version(ok!) + 1);
    h.deliver(upstreamReply(hold!, 180, { toTag: p.toTag! }));
    // the session refresh falls due while the hold is in flight: it cannot go out now
    n = h.sent.length;
    h.clock.advance(45_000);
    expect(h.requests(h.since(n), 'INVITE')).toEqual([]);
    h.deliver(upstreamReply(hold!, 200, { toTag: p.toTag!, body: OFFER('0', ['a=recvonly']) }));
    // resume: the next offer that goes out is one above the hold's
    n = h.sent.length;
    expect(h.calls.hold(p.callId, false).ok).toBe(true);
    const [resume] = h.requests(h.since(n), 'INVITE');
    expect(version(resume!)).toBe(version(hold!) + 1);
  });
});

describe('UAC: digest retries, the ACK for every 2xx, timeouts', () => {
  const credentials = { username: 'relay', password: 'secret' };
  const upstream = {
    uriHost: '127.0.0.1:5070',
    dest: { host: '127.0.0.1', port: 5070 },
    from: '<sip:relay@127.0.0.1>',
    credentials,
  };

  it('407 -> one retry with Proxy-Authorization (next CSeq); 200 -> ACK; a retransmitted 200 -> the same ACK', async () => {
    const h = callHarness({ deps: { upstream } });
    let n = h.sent.length;
    const dialled = await h.calls.dial('1001');
    expect(dialled.ok).toBe(true);
    const [first] = h.requests(h.since(n), 'INVITE');
    expect(first?.msg.uri).toBe('sip:1001@127.0.0.1:5070');
    n = h.sent.length;
    h.deliver(
      upstreamReply(first!, 407, {
        extra: ['Proxy-Authenticate: Digest realm="pbx", nonce="abc", qop="auth"'],
      }),
    );
    const acked = h.requests(h.since(n));
    expect(acked.map((r) => `${r.msg.method} ${r.cseq.seq}`)).toEqual(['ACK 1', 'INVITE 2']);
    const second = acked[1]!;
    expect(header(second.msg, 'proxy-authorization')).toMatch(/^Digest username="relay", realm="pbx"/);
    n = h.sent.length;
    h.deliver(upstreamReply(second, 200, { body: OFFER('0') }));
    const [ack] = h.requests(h.since(n), 'ACK');
    expect(ack?.cseq.seq).toBe(2);
    expect(ack?.msg.uri).toBe('sip:up@127.0.0.1:5070');
    n = h.sent.length;
    h.deliver(upstreamReply(second, 200, { body: OFFER('0') }));
    expect(h.requests(h.since(n), 'ACK').map((r) => r.msg.method)).toEqual(['ACK']);
    expect(h.events.map((e) => e.type)).toEqual(['call.media', 'call.answered']);
  });

  it('a second 401 is not answered again: the call fails with 401', async () => {
    const h = callHarness({ deps: { upstream } });
    await h.calls.dial('1001');
    const challenge = { extra: ['WWW-Authenticate: Digest realm="pbx", nonce="n1"'] };
    h.deliver(upstreamReply(h.requests(h.sent, 'INVITE')[0]!, 401, challenge));
    const retry = h.requests(h.sent, 'INVITE')[1]!;
    expect(header(retry.msg, 'authorization')).toMatch(/^Digest /);
    h.deliver(upstreamReply(retry, 401, challenge));
    expect(h.requests(h.sent, 'INVITE')).toHaveLength(2);
    await h.settle();
    expect(h.events.find((e) => e.type === 'call.failed')).toMatchObject({ status: 401 });
  });

  it('no answer at all: Timer B (64*T1) fails the call with 408', async () => {
    const h = callHarness({ deps: { upstream } });
    await h.calls.dial('1001');
    h.clock.advance(31_000);
    expect(h.events.some((e) => e.type === 'call.failed')).toBe(false);
    h.clock.advance(500);
    expect(h.events.some((e) => e.type === 'call.failed')).toBe(false);
    h.clock.advance(1000);
    await h.settle();
    expect(h.events.find((e) => e.type === 'call.failed')).toMatchObject({ status: 408 });
    expect(h.calls.size).toBe(0);
  });
});

describe('SRTP offers on a plain transport', () => {
  it('an RTP/SAVP offer over UDP gets 488 naming why (SDES keys only over TLS), before anything is taken', async () => {
    const h = callHarness({ settings: { srtp: 'offer' } });
    const crypto = `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(30, 1).toString('base64')}`;
    const body = OFFER('0 101', [crypto]).replace('RTP/AVP', 'RTP/SAVP');
    expect(body).toMatch(/^a=crypto:1 /m);
    const sent = h.deliver(requestText({ body, extra: ['Content-Type: application/sdp'] }));
    await h.settle();
    const final = h.responses(sent).find((r) => r.msg.status >= 200);
    expect(final?.msg.status).toBe(488);
    expect(final?.msg.reason).toMatch(/SDES keys are exchanged only over TLS/);
    expect(h.calls.size).toBe(0);
  });
});
