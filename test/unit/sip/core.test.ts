import { describe, expect, it } from 'vitest';
import { header } from '../../../src/sip/message/headers.ts';
import { coreHarness } from '../../helpers/core-harness.ts';
import { requestText } from '../../helpers/messages.ts';

const status = (s: { message: { kind: string } }) => (s.message as { status?: number }).status;

describe('what the SIP core answers on its own', () => {
  it('OPTIONS -> 200 with Allow, Accept, Supported, a To-tag and our Server header', () => {
    const h = coreHarness();
    const [res] = h.deliver(requestText({ method: 'OPTIONS' }));
    expect(status(res!)).toBe(200);
    const m = res!.message;
    expect(header(m, 'allow')).toBe('INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE, REFER, PRACK');
    expect(header(m, 'accept')).toBe('application/sdp');
    expect(header(m, 'supported')).toBe('timer, norefersub, 100rel');
    expect(header(m, 'server')).toBe('test-relay');
    expect(res!.parsed?.toTag).toMatch(/^[a-z0-9]{10}$/);
    expect(header(m, 'via')).toBe(
      'SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-test-1;rport=5999;received=127.0.0.1',
    );
  });

  it('a retransmitted OPTIONS gets the same response again, not a new transaction', () => {
    const h = coreHarness();
    const [a] = h.deliver(requestText({ method: 'OPTIONS' }));
    const [b] = h.deliver(requestText({ method: 'OPTIONS' }));
    expect(b!.message).toBe(a!.message);
    expect(h.core.layer.size).toBe(1);
  });

  it('unknown method -> 501 with Allow; a known method we do not serve -> 405 with Allow', () => {
    const h = coreHarness();
    const [a] = h.deliver(requestText({ method: 'FROBNICATE' }));
    expect([status(a!), header(a!.message, 'allow')]).toEqual([
      501,
      'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE, REFER, PRACK',
    ]);
    const [b] = h.deliver(requestText({ method: 'SUBSCRIBE', branch: 'z9hG4bK-2', callId: 'c-2' }));
    expect([status(b!), header(b!.message, 'allow')]).toEqual([
      405,
      'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, UPDATE, REFER, PRACK',
    ]);
  });

  it('a bad request -> 400 whose reason phrase names the problem', () => {
    const h = coreHarness();
    const text = requestText({ method: 'OPTIONS' }).replace(/^Call-ID:.*\r\n/m, '');
    const [res] = h.deliver(text);
    expect(res!.message.kind === 'response' && res!.message.reason).toBe(
      'Bad Request (missing Call-ID header)',
    );
  });

  it('SIP/7.0 -> 505; tel: Request-URI -> 416; Require: foo -> 420 with Unsupported', () => {
    const h = coreHarness();
    const [v] = h.deliver(requestText({ method: 'OPTIONS' }).replace('SIP/2.0\r\n', 'SIP/7.0\r\n'));
    expect(status(v!)).toBe(505);
    const [u] = h.deliver(
      requestText({ method: 'OPTIONS', ruri: 'tel:+15551234567', branch: 'z9hG4bK-u', callId: 'c-u' }),
    );
    expect(status(u!)).toBe(416);
    const [r] = h.deliver(
      requestText({
        method: 'OPTIONS',
        branch: 'z9hG4bK-r',
        callId: 'c-r',
        extra: ['Require: 100rel, foo, bar'],
      }),
    );
    expect([status(r!), header(r!.message, 'unsupported')]).toEqual([420, 'foo, bar']); // 100rel is ours (RFC 3262)
  });

  it('unknown Content-Type -> 415 with Accept; Accept without SDP on INVITE -> 406', () => {
    const h = coreHarness();
    const ct = h.deliver(requestText({ extra: ['Content-Type: application/x-nothing'], body: 'hello' }));
    expect(ct.map(status)).toEqual([100, 415]);
    expect(header(ct[1]!.message, 'accept')).toBe('application/sdp, multipart/mixed');
    const acc = h.deliver(
      requestText({ branch: 'z9hG4bK-acc', callId: 'c-acc', extra: ['Accept: text/plain'] }),
    );
    expect(acc.map(status)).toEqual([100, 406]);
  });

  it('a response is never sent to a broadcast or multicast address', () => {
    const h = coreHarness({ broadcasts: new Set(['10.1.255.255']) });
    expect(h.deliver(requestText({ method: 'OPTIONS' }), { address: '255.255.255.255', port: 5060 })).toEqual(
      [],
    );
    expect(
      h.deliver(requestText({ method: 'OPTIONS', branch: 'z9hG4bK-m' }), {
        address: '224.0.0.1',
        port: 5060,
      }),
    ).toEqual([]);
    expect(
      h.deliver(requestText({ method: 'OPTIONS', branch: 'z9hG4bK-b' }), {
        address: '10.1.255.255',
        port: 5060,
      }),
    ).toEqual([]);
    // a malformed request from a broadcast source gets no stateless 400 either
    expect(
      h.deliver('OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 255.255.255.255\r\n\r\n', {
        address: '255.255.255.255',
        port: 5060,
      }),
    ).toEqual([]);
  });

  it('a forged received= in the request cannot redirect the response (we stamp the real source)', () => {
    const h = coreHarness();
    const text = requestText({ method: 'OPTIONS' }).replace(';rport', ';received=192.0.2.1');
    const [res] = h.deliver(text, { address: '127.0.0.1', port: 5999 });
    expect(res!.dest).toEqual({ host: '127.0.0.1', port: 5999 });
  });

  it('malformed responses and responses matching no transaction are dropped', () => {
    const h = coreHarness();
    expect(h.deliver('SIP/2.0 999999 Huge\r\nVia: SIP/2.0/UDP 127.0.0.1\r\n\r\n')).toEqual([]);
    const stray =
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-none\r\nFrom: <sip:a@b>;tag=1\r\n' +
      'To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n';
    expect(h.deliver(stray)).toEqual([]);
  });

  it('a malformed ACK is never answered', () => {
    const h = coreHarness();
    expect(h.deliver(requestText({ method: 'ACK' }).replace(/^From:.*\r\n/m, ''))).toEqual([]);
  });

  it('CANCEL of a pending INVITE -> 200 for the CANCEL and 487 for the INVITE (RFC 3261 9.2)', () => {
    const h = coreHarness({
      // a TU that leaves the INVITE ringing, as a call waiting for a client's answer would
      tu: (core) => ({
        onRequest: (_req, tx) => void core().respond(tx, 180, { toTag: 'ring1' }),
        onCancel: (invite) => void core().respond(invite, 487, { toTag: 'ring1' }),
      }),
    });
    h.deliver(requestText({ branch: 'z9hG4bK-inv' }));
    const out = h.deliver(requestText({ method: 'CANCEL', branch: 'z9hG4bK-inv' }));
    expect(out.map((s) => [status(s), header(s.message, 'cseq')])).toEqual([
      [200, '1 CANCEL'],
      [487, '1 INVITE'],
    ]);
    // RFC 3261 9.2: the 200 to the CANCEL carries the To tag of the INVITE's responses
    expect(out.map((s) => s.parsed?.toTag)).toEqual(['ring1', 'ring1']);
  });

  it('CANCEL matching no INVITE -> 481', () => {
    const h = coreHarness();
    expect(h.deliver(requestText({ method: 'CANCEL', branch: 'z9hG4bK-nothing' })).map(status)).toEqual([
      481,
    ]);
  });

  it('BYE or a request with a To-tag outside any dialog -> 481; a new INVITE -> 100 then 480 for now', () => {
    const h = coreHarness();
    expect(h.deliver(requestText({ method: 'BYE', toTag: 'x' })).map(status)).toEqual([481]);
    expect(h.deliver(requestText({ branch: 'z9hG4bK-new', callId: 'c-new' })).map(status)).toEqual([
      100, 480,
    ]);
  });

  it('the same request arriving by a second path (same From tag, Call-ID, CSeq; new branch) -> 482', () => {
    const h = coreHarness({
      tu: (core) => ({
        onRequest: (_req, tx) => void core().respond(tx, 180),
        onCancel: () => {},
      }),
    });
    h.deliver(requestText({ branch: 'z9hG4bK-path1' }));
    expect(h.deliver(requestText({ branch: 'z9hG4bK-path2' })).map(status)).toEqual([100, 482]);
  });

  it('after stopAccepting, new requests get 503 with Retry-After', () => {
    const h = coreHarness();
    h.core.stopAccepting();
    const [res] = h.deliver(requestText({ method: 'OPTIONS' }));
    expect([status(res!), header(res!.message, 'retry-after')]).toEqual([503, '30']);
  });

  it('keep-alive CRLFs and empty datagrams are ignored', () => {
    const h = coreHarness();
    expect(h.deliver('\r\n\r\n')).toEqual([]);
    expect(h.deliver('')).toEqual([]);
  });
});
