import { describe, expect, it } from 'vitest';
import {
  buildAckForNon2xx,
  buildCancel,
  buildRequest,
  buildResponse,
  withTag,
} from '../../../src/sip/message/build.ts';
import { canonicalName, header, headerValues, splitList } from '../../../src/sip/message/headers.ts';
import { isIPv6, parseHostPort } from '../../../src/sip/message/host.ts';
import { parseNameAddr, serializeNameAddr } from '../../../src/sip/message/name-addr.ts';
import { parseCSeq, parseMessage } from '../../../src/sip/message/parse.ts';
import { serialize } from '../../../src/sip/message/serialize.ts';
import { parseUri, serializeUri, unescapeUri } from '../../../src/sip/message/uri.ts';
import { parseVia, serializeVia, viaBranch } from '../../../src/sip/message/via.ts';
import { parsedRequest, requestText, responseTo } from '../../helpers/messages.ts';

const bytes = (s: string) => Buffer.from(s);

describe('header names', () => {
  it('compact forms and case map to one canonical name (RFC 3261 7.3.3)', () => {
    const pairs = {
      i: 'call-id',
      v: 'via',
      f: 'from',
      t: 'to',
      m: 'contact',
      l: 'content-length',
      c: 'content-type',
    };
    for (const [short, long] of Object.entries(pairs)) expect(canonicalName(short.toUpperCase())).toBe(long);
    expect(canonicalName('k')).toBe('supported');
    expect(canonicalName('e')).toBe('content-encoding');
    expect(canonicalName('s')).toBe('subject');
    expect(canonicalName('o')).toBe('event');
    expect(canonicalName('r')).toBe('refer-to');
    expect(canonicalName('u')).toBe('allow-events');
    expect(canonicalName('MaX-fOrWaRdS')).toBe('max-forwards');
  });

  it('list values split at commas outside quotes and angle brackets, in order across lines', () => {
    expect(splitList('"a, b" <sip:x@y;p=1,2>, <sip:z@w>')).toEqual(['"a, b" <sip:x@y;p=1,2>', '<sip:z@w>']);
    const m = parsedRequest({
      extra: ['v: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bK2, SIP/2.0/UDP 10.0.0.3;branch=z9hG4bK3'],
    });
    expect(m.via.map((v) => v.host)).toEqual(['127.0.0.1', '10.0.0.2', '10.0.0.3']);
  });
});

describe('framing (RFC 3261 7, 18.3)', () => {
  it('unfolds continuation lines and ignores CRLFs before the start line', () => {
    const text = `\r\n\r\n${requestText({ method: 'OPTIONS' }).replace('Max-Forwards: 70', 'Max-Forwards:\r\n   70')}`;
    const p = parseMessage(bytes(text));
    expect(p.ok && p.value.maxForwards).toBe(70);
  });

  it('over UDP, bytes beyond Content-Length are discarded', () => {
    const p = parseMessage(bytes(`${requestText({ method: 'OPTIONS', body: 'abc' })}TRAILING`));
    expect(p.ok && Buffer.from(p.value.msg.body).toString()).toBe('abc');
  });

  it('a body shorter than Content-Length: 400 for a request, a drop (kind response) for a response', () => {
    const req = parseMessage(
      bytes(requestText({ method: 'OPTIONS' }).replace('Content-Length: 0', 'Content-Length: 10')),
    );
    expect(!req.ok && [req.error.status, req.error.kind]).toEqual([400, 'request']);
    const res = parseMessage(
      bytes('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 5\r\n\r\nab'),
    );
    expect(!res.ok && res.error.kind).toBe('response');
  });

  it('without Content-Length the body is the rest of the datagram', () => {
    const text = requestText({ method: 'OPTIONS' }).replace('Content-Length: 0\r\n', '');
    const p = parseMessage(bytes(`${text}v=0\r\n`));
    expect(p.ok && p.value.msg.body.length).toBe(5);
  });

  it('tolerates bare LF line ends', () => {
    const p = parseMessage(bytes(requestText({ method: 'OPTIONS' }).replaceAll('\r\n', '\n')));
    expect(p.ok).toBe(true);
  });

  it('errors are typed and carry the status to answer', () => {
    const cases: Array<[string, number]> = [
      [requestText().replace('SIP/2.0\r\n', 'SIP/3.0\r\n'), 505],
      [requestText().replace(/^CSeq: 1 INVITE/m, 'CSeq: 1 BYE'), 400],
      [requestText().replace(/^CSeq: 1 INVITE/m, 'CSeq: 99999999999 INVITE'), 400],
      [requestText().replace('Max-Forwards: 70', 'Max-Forwards: 256'), 400],
      [requestText().replace(/^To: .*$/m, 'To: "unterminated <sip:a@b>'), 400],
      [requestText().replace(/^Via: .*$/m, 'Via: SIP/2.0/UDP host;;branch=x'), 400],
      ['INVITE  sip:a@b SIP/2.0\r\n\r\n', 400],
    ];
    for (const [text, status] of cases) {
      const p = parseMessage(bytes(text));
      expect(p.ok ? 'parsed' : p.error.status, text.split('\r\n')[0]).toBe(status);
    }
  });
});

describe('URIs (RFC 3261 19.1, 25.1)', () => {
  it('parses user, password, host, port, params and headers, and serializes back as written', () => {
    const text = 'sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi&x=%20';
    const u = parseUri(text);
    expect(u.ok && u.value).toMatchObject({
      kind: 'sip',
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: '[2001:db8::1]',
      port: 5061,
      params: [
        ['transport', 'tcp'],
        ['lr', null],
      ],
      headers: [
        ['subject', 'hi'],
        ['x', '%20'],
      ],
    });
    expect(u.ok && serializeUri(u.value)).toBe(text);
  });

  it('unescapes %HH as UTF-8 and keeps invalid escapes', () => {
    expect(unescapeUri('%75se%72')).toBe('user');
    expect(unescapeUri('I%20have%20spaces%Z4')).toBe('I have spaces%Z4');
    expect(unescapeUri('%E4%BD%A0')).toBe('你');
  });

  it('rejects malformed hosts and ports; keeps other schemes opaque', () => {
    for (const bad of [
      'sip:a@',
      'sip:host:99999',
      'sip:a b@c',
      'sip:1.2.3.999',
      'sip:[::1',
      'sip:@host',
      'nocolon',
    ]) {
      expect(parseUri(bad).ok, bad).toBe(false);
    }
    expect(parseUri('tel:+1-555-0100;phone-context=x')).toEqual({
      ok: true,
      value: { kind: 'absolute', scheme: 'tel', opaque: '+1-555-0100;phone-context=x' },
    });
  });

  it('IPv6 text forms follow RFC 4291 (RFC 5118 4.10)', () => {
    expect(isIPv6('2001:db8::192.0.2.1')).toBe(true);
    expect(isIPv6('::ffff:192.0.2.2')).toBe(true);
    expect(isIPv6('::')).toBe(true);
    expect(isIPv6('1:2:3:4:5:6:7:8')).toBe(true);
    expect(isIPv6('2001:db8:::192.0.2.1')).toBe(false);
    expect(isIPv6('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isIPv6('1::2::3')).toBe(false);
    expect(parseHostPort('[2001:db8::10:5070]')).toEqual({ host: '[2001:db8::10:5070]', kind: 'ipv6' });
    expect(parseHostPort('[2001:db8::10]:5070')).toEqual({
      host: '[2001:db8::10]',
      kind: 'ipv6',
      port: 5070,
    });
  });
});

describe('name-addr and addr-spec', () => {
  it('display names quoted or as tokens, params after the URI, tags', () => {
    const a = parseNameAddr('"Bob \\"B\\"" <sip:bob@example.com;transport=udp>;tag=abc;x');
    expect(a.ok && [a.value.displayName, a.value.params]).toEqual([
      'Bob "B"',
      [
        ['tag', 'abc'],
        ['x', null],
      ],
    ]);
    const b = parseNameAddr('sip:bob@example.com;tag=abc');
    expect(b.ok && b.value.uri.kind === 'sip' && b.value.uri.params).toEqual([]); // tag is a header param
    const c = parseNameAddr('Bob Smith <sip:bob@example.com>');
    expect(c.ok && c.value.displayName).toBe('Bob Smith');
    expect(c.ok && serializeNameAddr(c.value)).toBe('"Bob Smith" <sip:bob@example.com>');
  });

  it('withTag adds a tag only when there is none', () => {
    expect(withTag('<sip:a@b>', 't1')).toBe('<sip:a@b>;tag=t1');
    expect(withTag('<sip:a@b>;tag=x', 't1')).toBe('<sip:a@b>;tag=x');
  });
});

describe('Via (RFC 3261 20.42, RFC 3581)', () => {
  it('parses sent-protocol with odd spacing, sent-by, branch, received and rport', () => {
    const v = parseVia(
      'SIP / 2.0 / UDP  [2001:db8::9:1]:5070 ; branch = z9hG4bK77 ;rport;received=[2001:db8::9:255]',
    );
    expect(v.ok && v.value).toMatchObject({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: '[2001:db8::9:1]',
      port: 5070,
    });
    expect(v.ok && viaBranch(v.value)).toBe('z9hG4bK77');
    expect(v.ok && serializeVia(v.value)).toBe(
      'SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bK77;rport;received=[2001:db8::9:255]',
    );
  });

  it('rejects empty params, a non-IP received and a bad rport', () => {
    expect(parseVia('SIP/2.0/UDP h;;branch=z9hG4bK1').ok).toBe(false);
    expect(parseVia('SIP/2.0/UDP h;received=example.com').ok).toBe(false);
    expect(parseVia('SIP/2.0/UDP h;rport=70000').ok).toBe(false);
  });
});

describe('CSeq', () => {
  it('accepts leading zeros and folded whitespace; rejects numbers of 2**31 and more', () => {
    expect(parseCSeq('0009 \t INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq('2147483647 BYE')).toEqual({ seq: 2147483647, method: 'BYE' });
    expect(parseCSeq('2147483648 BYE')).toBeUndefined();
    expect(parseCSeq('1')).toBeUndefined();
  });
});

describe('building messages', () => {
  it('a response copies all Vias in order, From, Call-ID, CSeq; adds a To-tag except on 100; echoes Timestamp on 100', () => {
    const req = parsedRequest({ extra: ['Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bK9', 'Timestamp: 54'] });
    const trying = buildResponse(req.msg, 100);
    expect(headerValues(trying, 'via')).toHaveLength(2);
    expect(header(trying, 'timestamp')).toBe('54');
    expect(header(trying, 'to')).toBe('<sip:relay@127.0.0.1>');
    const ok = buildResponse(req.msg, 200, { toTag: 'us', body: 'v=0\r\n' });
    expect(header(ok, 'to')).toBe('<sip:relay@127.0.0.1>;tag=us');
    expect(header(ok, 'content-length')).toBe('5');
    expect(header(ok, 'timestamp')).toBeUndefined();
    const reparsed = parseMessage(serialize(ok));
    expect(reparsed.ok && reparsed.value.via.map((v) => v.host)).toEqual(['127.0.0.1', '10.0.0.9']);
  });

  it('a new request carries our sent-by, the branch and rport in its Via (RFC 3581)', () => {
    const req = buildRequest({
      method: 'OPTIONS',
      uri: 'sip:pbx@127.0.0.1:5060',
      via: { host: '::1', port: 5062 },
      branch: 'z9hG4bK-new',
      from: '<sip:relay@127.0.0.1>;tag=a',
      to: '<sip:pbx@127.0.0.1>',
      callId: 'c1',
      cseq: 7,
    });
    const p = parseMessage(serialize(req));
    expect(p.ok && header(p.value.msg, 'via')).toBe('SIP/2.0/UDP [::1]:5062;branch=z9hG4bK-new;rport');
    expect(p.ok && [p.value.cseq, p.value.maxForwards]).toEqual([{ seq: 7, method: 'OPTIONS' }, 70]);
  });

  it('ACK for a non-2xx and CANCEL reuse the INVITE branch, Call-ID, From and CSeq number', () => {
    const invite = parsedRequest({ branch: 'z9hG4bK-inv', extra: ['Route: <sip:proxy@127.0.0.1;lr>'] });
    const ack = buildAckForNon2xx(invite, responseTo(invite, 404));
    const cancel = buildCancel(invite);
    for (const [m, method] of [
      [ack, 'ACK'],
      [cancel, 'CANCEL'],
    ] as const) {
      const p = parseMessage(serialize(m));
      expect(p.ok).toBe(true);
      if (!p.ok) continue;
      expect(viaBranch(p.value.via[0]!)).toBe('z9hG4bK-inv');
      expect(p.value.cseq).toEqual({ seq: 1, method });
      expect(p.value.callId).toBe(invite.callId);
      expect(header(p.value.msg, 'route')).toBe('<sip:proxy@127.0.0.1;lr>');
    }
    expect(header(ack, 'to')).toContain('tag=far1');
    expect(header(cancel, 'to')).not.toContain('tag=');
  });
});
