import { describe, expect, it } from 'vitest';
import { ackWaitReduce, ackWaitStart } from '../../../src/sip/dialog/ack-wait.ts';
import { dialogAsUas, nextHop, receiveInDialog, recordRouteHeaders } from '../../../src/sip/dialog/dialog.ts';
import { inviteClientResponse, inviteClientStart } from '../../../src/sip/dialog/invite-client.ts';
import {
  type OfferAnswerEvent,
  offerAnswer,
  offerGlare,
  type SignalingState,
} from '../../../src/sip/dialog/offer-answer.ts';
import { reliableSchedule, reliableStep } from '../../../src/sip/dialog/prack.ts';
import { grantedExpires, registerRequest } from '../../../src/sip/dialog/register.ts';
import {
  dialogGone,
  glareDelayMs,
  reinviteRefusal,
  updateRefusal,
} from '../../../src/sip/dialog/reinvite.ts';
import { dtmfOfInfo } from '../../../src/sip/message/dtmf-relay.ts';
import { header } from '../../../src/sip/message/headers.ts';
import type { SipResponse } from '../../../src/sip/message/types.ts';
import { DEFAULT_TIMERS } from '../../../src/sip/transaction/timers.ts';
import { parsedRequest, responseTo } from '../../helpers/messages.ts';

const ok = { kind: 'response', status: 200 } as unknown as SipResponse;
const t = DEFAULT_TIMERS;

describe('ack-wait (RFC 3261 13.3.1.4), pure', () => {
  it('retransmits at T1, 2*T1 ... capped at T2, and gives up at 64*T1 with ack.timeout', () => {
    let [s, fx] = ackWaitStart(7, ok, t);
    expect(fx).toEqual([
      { type: 'timer.start', timer: 'retransmit', ms: 500 },
      { type: 'timer.start', timer: 'give-up', ms: 32_000 },
    ]);
    const intervals: number[] = [];
    for (let i = 0; i < 5; i++) {
      [s, fx] = ackWaitReduce(s, { type: 'timer', timer: 'retransmit' }, t);
      expect(fx[0]).toEqual({ type: 'send', response: ok });
      intervals.push((fx[1] as { ms: number }).ms);
    }
    expect(intervals).toEqual([1000, 2000, 4000, 4000, 4000]);
    [s, fx] = ackWaitReduce(s, { type: 'timer', timer: 'give-up' }, t);
    expect(s.state).toBe('timed-out');
    expect(fx.at(-1)).toEqual({ type: 'ack.timeout' });
    expect(ackWaitReduce(s, { type: 'timer', timer: 'retransmit' }, t)[1]).toEqual([]);
  });

  it('the ACK with the same CSeq number stops both timers; another CSeq changes nothing', () => {
    const [s] = ackWaitStart(7, ok, t);
    expect(ackWaitReduce(s, { type: 'ack', cseq: 8 }, t)).toEqual([s, []]);
    const [acked, fx] = ackWaitReduce(s, { type: 'ack', cseq: 7 }, t);
    expect(acked.state).toBe('acked');
    expect(fx.map((e) => e.type)).toEqual(['timer.stop', 'timer.stop']);
  });
});

describe('dialog rules, pure', () => {
  const invite = parsedRequest({
    cseq: 5,
    extra: ['Record-Route: <sip:p1;lr>', 'Record-Route: <sip:p2;lr>'],
  });
  const d = dialogAsUas(invite, 'mine', 100);

  it('12.2.2: a lower CSeq is 500; an equal or higher one moves the remote sequence number', () => {
    expect(receiveInDialog(d, parsedRequest({ cseq: 4 }))).toMatchObject({ ok: false, status: 500 });
    const next = receiveInDialog(d, parsedRequest({ cseq: 9 }));
    expect(next.ok && next.dialog.remoteSeq).toBe(9);
    expect(receiveInDialog(d, parsedRequest({ cseq: 5 })).ok).toBe(true);
  });

  it('12.1.1: Record-Route values are copied in order', () => {
    expect(recordRouteHeaders(invite)).toEqual([
      ['Record-Route', '<sip:p1;lr>'],
      ['Record-Route', '<sip:p2;lr>'],
    ]);
  });

  it('14.2: a re-INVITE is refused with 491 and Retry-After while the dialog is busy', () => {
    expect(reinviteRefusal({ established: true, pending: false })).toBeUndefined();
    expect(reinviteRefusal({ established: true, pending: true })?.status).toBe(491);
    expect(reinviteRefusal({ established: false, pending: false })?.headers).toEqual([['Retry-After', '1']]);
  });

  it('INFO DTMF bodies: dtmf-relay Signal= and bare dtmf; anything else is no key', () => {
    const info = (type: string, body: string) =>
      dtmfOfInfo(parsedRequest({ method: 'INFO', body, extra: [`Content-Type: ${type}`] }).msg);
    expect(info('application/dtmf-relay', 'Signal=*\r\nDuration=100\r\n')).toBe('*');
    expect(info('Application/DTMF-Relay', 'signal = 9')).toBe('9');
    expect(info('application/dtmf', ' 4 ')).toBe('4');
    expect(info('application/dtmf', 'x')).toBeUndefined();
    expect(info('text/plain', 'Signal=5')).toBeUndefined();
  });
});

describe('INVITE client (RFC 3261 13.2.2, 22.2), pure', () => {
  const invite = parsedRequest({ cseq: 1, fromTag: 'us' });
  const auth = ['Authorization', 'Digest x'] as const;
  const yes = () => auth;
  const no = () => undefined;

  it('100 means nothing; 180/183 are provisional; the first 2xx answers; its retransmission is ACKed again', () => {
    const start = inviteClientStart(1);
    expect(inviteClientResponse(start, responseTo(invite, 100), no)[1]).toEqual({ type: 'ignore' });
    expect(inviteClientResponse(start, responseTo(invite, 183), no)[1]).toEqual({
      type: 'provisional',
      status: 183,
    });
    const [s, action] = inviteClientResponse(start, responseTo(invite, 200, 'a'), no);
    expect(action).toEqual({ type: 'answered' });
    expect(inviteClientResponse(s, responseTo(invite, 200, 'a'), no)[1]).toEqual({ type: 'ack-again' });
    expect(inviteClientResponse(s, responseTo(invite, 200, 'forked'), no)[1]).toEqual({ type: 'ignore' });
    expect(inviteClientResponse(s, responseTo(invite, 486, 'a'), no)[1]).toEqual({ type: 'ignore' });
  });

  it('a challenge is answered once with the next CSeq; a second one fails; without credentials it fails', () => {
    const [s, retry] = inviteClientResponse(inviteClientStart(1), responseTo(invite, 407), yes);
    expect(retry).toEqual({ type: 'retry', cseq: 2, authorization: auth });
    const again = parsedRequest({ cseq: 2, fromTag: 'us' });
    expect(inviteClientResponse(s, responseTo(again, 407), yes)[1]).toMatchObject({
      type: 'failed',
      status: 407,
    });
    expect(inviteClientResponse(s, responseTo(invite, 500), yes)[1]).toEqual({ type: 'ignore' }); // old CSeq
    expect(inviteClientResponse(inviteClientStart(1), responseTo(invite, 401), no)[1]).toMatchObject({
      type: 'failed',
      status: 401,
    });
  });
});

describe('INVITE client: best-effort SRTP', () => {
  const invite = parsedRequest({ cseq: 1, fromTag: 'us' });
  it('a 488 to an SRTP offer that may fall back is retried once with plain RTP; the second 488 fails', () => {
    const [s, retry] = inviteClientResponse(
      inviteClientStart(1, true),
      responseTo(invite, 488),
      () => undefined,
    );
    expect(retry).toEqual({ type: 'retry-plain', cseq: 2 });
    const again = parsedRequest({ cseq: 2, fromTag: 'us' });
    expect(inviteClientResponse(s, responseTo(again, 488), () => undefined)[1]).toMatchObject({
      type: 'failed',
      status: 488,
    });
    expect(
      inviteClientResponse(inviteClientStart(1), responseTo(invite, 488), () => undefined)[1],
    ).toMatchObject({
      type: 'failed',
    });
  });
});

describe('REGISTER (RFC 3261 10.2), pure', () => {
  const base = {
    registrar: { host: '::1', port: 5070 },
    aor: 'sip:1001@pbx.example',
    contactUser: 'relay',
    local: { host: '::1', port: 5062 },
    callId: 'reg-1',
    fromTag: 't1',
    cseq: 3,
    branch: 'z9hG4bK-r3',
    expires: 300,
    userAgent: 'test',
  };

  it('To and From are the AOR, the Request-URI the registrar, IPv6 bracketed, Expires as asked', () => {
    const req = registerRequest({ ...base, authorization: ['Authorization', 'Digest y'] });
    expect(req.uri).toBe('sip:[::1]:5070');
    expect(header(req, 'to')).toBe('<sip:1001@pbx.example>');
    expect(header(req, 'from')).toBe('<sip:1001@pbx.example>;tag=t1');
    expect(header(req, 'contact')).toBe('<sip:relay@[::1]:5062>');
    expect(header(req, 'cseq')).toBe('3 REGISTER');
    expect([header(req, 'expires'), header(req, 'authorization')]).toEqual(['300', 'Digest y']);
  });

  it('10.2.4: the granted expiry is our Contact binding, else Expires, else what we asked', () => {
    const reg = parsedRequest({ method: 'REGISTER' });
    const ok = (extra: string[]) => {
      const r = responseTo(reg, 200);
      return { ...r, msg: { ...r.msg, headers: [...r.msg.headers, ...extra.map(parseLine)] } };
    };
    const parseLine = (l: string) => {
      const i = l.indexOf(':');
      return { name: l.slice(0, i), value: l.slice(i + 1).trim() };
    };
    expect(
      grantedExpires(
        ok(['Contact: <sip:x@h:5999>;expires=10', 'Contact: <sip:relay@h:5062>;expires=60']),
        300,
        5062,
      ),
    ).toBe(60);
    expect(grantedExpires(ok(['Expires: 120']), 300, 5062)).toBe(120);
    expect(grantedExpires(ok([]), 300, 5062)).toBe(300);
  });
});

describe('nextHop: transport and connection of in-dialog requests', () => {
  const base = dialogAsUas(parsedRequest({ contact: '<sip:alice@127.0.0.1:5999>' }), 'mine', 1);
  const overTcp = { ...base, transport: 'tcp' as const, flow: 4 };
  const fallback = { host: '127.0.0.1', port: 5999 };

  it("a target without transport= takes the dialog's transport and reuses its connection", () => {
    expect(nextHop(overTcp, fallback)).toEqual({ host: '127.0.0.1', port: 5999, transport: 'tcp', flow: 4 });
    expect(nextHop(base, fallback)).toEqual({ host: '127.0.0.1', port: 5999 });
  });

  it('transport= in the target wins; sips: is TLS on 5061; another transport never reuses the connection', () => {
    const udpTarget = { ...overTcp, remoteTarget: 'sip:alice@127.0.0.1:5999;transport=udp' };
    expect(nextHop(udpTarget, fallback)).toEqual({ host: '127.0.0.1', port: 5999, transport: 'udp' });
    const sips = { ...base, remoteTarget: 'sips:alice@127.0.0.1' };
    expect(nextHop(sips, fallback)).toEqual({ host: '127.0.0.1', port: 5061, transport: 'tls' });
  });

  it('the first Route decides when there is a route set', () => {
    const routed = { ...overTcp, routeSet: ['<sip:10.9.9.9:5070;lr;transport=tcp>'] };
    expect(nextHop(routed, fallback)).toEqual({ host: '10.9.9.9', port: 5070, transport: 'tcp', flow: 4 });
  });
});

describe('in-dialog rules of issue 25 (pure)', () => {
  it('RFC 3311 5.2: an UPDATE with an offer while ours awaits its answer gets 491; a refresh never does', () => {
    expect(updateRefusal({ offer: true, ourOfferPending: true })).toEqual({
      status: 491,
      headers: [['Retry-After', '1']],
    });
    expect(updateRefusal({ offer: true, ourOfferPending: false })).toBeUndefined();
    expect(updateRefusal({ offer: false, ourOfferPending: true })).toBeUndefined();
  });

  it.each<[boolean, number, number]>([
    [true, 0, 2100],
    [true, 0.99999, 4000],
    [false, 0, 0],
    [false, 0.99999, 2000],
    [false, 0.5, 1000],
  ])('RFC 3261 14.1 glare wait: Call-ID owner %s, random %s -> %s ms', (owner, r, ms) => {
    expect(glareDelayMs(owner, () => r)).toBe(ms);
  });

  it('the glare wait is in units of 10 ms within its range, whatever the random source', () => {
    for (let i = 0; i < 200; i++) {
      const a = glareDelayMs(true);
      const b = glareDelayMs(false);
      expect(a % 10 === 0 && a >= 2100 && a <= 4000).toBe(true);
      expect(b % 10 === 0 && b >= 0 && b <= 2000).toBe(true);
    }
  });

  it.each([
    [408, true],
    [481, true],
    [491, false],
    [500, false],
    [503, false],
  ])('RFC 3261 12.2.1.2: a %s to an in-dialog request ends the dialog: %s', (status, gone) => {
    expect(dialogGone(status)).toBe(gone);
  });

  it('RFC 3262 3: the reliable 183 is resent at T1, 2T1, 4T1 ... then given up at 64*T1', () => {
    const plan = reliableSchedule(500);
    const steps = [];
    for (let i = 0; ; i++) {
      const s = reliableStep(plan, i);
      steps.push(`${s.action}@${s.ms}`);
      if (s.action === 'give-up') break;
    }
    expect(steps).toEqual([
      'resend@500',
      'resend@1000',
      'resend@2000',
      'resend@4000',
      'resend@8000',
      'resend@16000',
      'give-up@500', // 31.5 s resending, then the rest of 64*T1 = 32 s
    ]);
  });
});

describe('offer/answer state (RFC 3264 over SIP, RFC 6337)', () => {
  it.each<[SignalingState, OfferAnswerEvent, SignalingState]>([
    ['stable', 'local-offer', 'have-local-offer'],
    ['stable', 'remote-offer', 'have-remote-offer'],
    ['have-local-offer', 'remote-answer', 'stable'],
    ['have-remote-offer', 'local-answer', 'stable'],
    // the 2xx repeating the 183's answer (RFC 6337 3.1.1): nothing changes
    ['stable', 'remote-answer', 'stable'],
    // a refused offer (488 on a re-INVITE, a failed UPDATE): the session as it was (RFC 3261 14.1)
    ['have-local-offer', 'rollback', 'stable'],
    ['have-remote-offer', 'rollback', 'stable'],
    // a new offer after our last one was refused without an answer (a plain-RTP retry after 488)
    ['have-local-offer', 'local-offer', 'have-local-offer'],
  ])('%s + %s -> %s', (from, event, to) => {
    expect(offerAnswer(from, event)).toBe(to);
  });

  it('an offer from the peer while ours is unanswered is glare (491), in no other state', () => {
    expect(offerGlare('have-local-offer')).toBe(true);
    expect(offerGlare('stable')).toBe(false);
    expect(offerGlare('have-remote-offer')).toBe(false);
  });
});
