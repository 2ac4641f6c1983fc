import { expect } from 'vitest';
import { header, headerValues } from '../../src/sip/message/headers.ts';
import { parseNameAddr } from '../../src/sip/message/name-addr.ts';
import { param } from '../../src/sip/message/params.ts';
import type { ParsedMessage, ParsedRequest } from '../../src/sip/message/parse.ts';
import { unescapeUri } from '../../src/sip/message/uri.ts';
import type { Table } from './expectations.ts';

const req = (m: ParsedMessage) => m as ParsedRequest;
const sipUri = (m: ParsedMessage) => {
  const u = req(m).ruri;
  if (u.kind !== 'sip') throw new Error('not a SIP URI');
  return u;
};

export const RFC4475: Table = {
  'wsinv.dat': {
    parse: 'ok',
    answer: 481, // To has a tag: a dialog we do not have
    check: (m) => {
      expect(req(m).msg.method).toBe('INVITE');
      expect(m.maxForwards).toBe(68);
      expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
      expect(m.via.map((v) => v.transport)).toEqual(['UDP', 'TCP', 'UDP']);
      expect(m.via[2]!.host).toBe('192.168.255.111');
      expect(m.to.params).toEqual([['tag', '1918181833n']]);
      expect(m.from.displayName).toBe('J Rosenberg \\"');
      expect(m.fromTag).toBe('98asjd8');
      expect(header(m.msg, 'NewFangledHeader')).toBe('newfangled value continued newfangled value');
      expect(headerValues(m.msg, 'contact')).toHaveLength(1);
      const contact = parseNameAddr(headerValues(m.msg, 'm')[0]!);
      expect(contact.ok && contact.value.displayName).toBe('Quoted string ""');
      expect(contact.ok && param(contact.value.params, 'q')).toBe('0.33');
      expect(m.msg.body.length).toBe(150);
    },
  },
  'intmeth.dat': {
    parse: 'ok',
    answer: 501,
    allowed: [405, 501],
    check: (m) => {
      expect(req(m).msg.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
      expect(m.cseq.method).toBe(req(m).msg.method);
      expect(m.to.displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
      expect(sipUri(m).user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    },
  },
  'esc01.dat': {
    parse: 'ok',
    answer: 480,
    live: 200,
    check: (m) => {
      expect(unescapeUri(sipUri(m).user!)).toBe('sips:user@example.com');
      expect(m.from.uri.kind === 'sip' && unescapeUri(m.from.uri.user!)).toBe('I have spaces');
    },
  },
  'escnull.dat': {
    parse: 'ok',
    answer: 405,
    check: (m) => {
      const contacts = headerValues(m.msg, 'contact');
      expect(contacts).toHaveLength(2);
      expect(m.to.uri.kind === 'sip' && unescapeUri(m.to.uri.user!)).toBe('null-\x00-null');
    },
  },
  'esc02.dat': {
    parse: 'ok',
    answer: 501,
    allowed: [405, 501],
    check: (m) => {
      expect(req(m).msg.method).toBe('RE%47IST%45R');
      expect(headerValues(m.msg, 'contact')).toHaveLength(2);
      expect(m.from.displayName).toBe('%Z%45');
    },
  },
  'lwsdisp.dat': { parse: 'ok', answer: 200, check: (m) => expect(m.from.displayName).toBe('caller') },
  'longreq.dat': {
    parse: 'ok',
    answer: 480,
    live: 200,
    check: (m) => {
      expect(m.via).toHaveLength(34);
      expect(m.fromTag!.length).toBeGreaterThan(150);
      expect(m.callId.length).toBeGreaterThan(100);
    },
  },
  'dblreq.dat': {
    parse: 'ok',
    answer: 405, // REGISTER: we are not a registrar; the INVITE after it is discarded (RFC 3261 18.3)
    check: (m) => {
      expect(req(m).msg.method).toBe('REGISTER');
      expect(m.msg.body.length).toBe(0);
    },
  },
  'semiuri.dat': {
    parse: 'ok',
    answer: 200,
    check: (m) => expect(sipUri(m).user).toBe('user;par=u%40example.net'),
  },
  'transports.dat': {
    parse: 'ok',
    answer: 200,
    check: (m) => expect(m.via.map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']),
  },
  'mpart01.dat': {
    parse: 'ok',
    answer: 405, // MESSAGE is understood but not served
    check: (m) => {
      expect(m.msg.body.length).toBe(Number(header(m.msg, 'content-length')));
      expect(header(m.msg, 'content-type')).toMatch(/^multipart\/mixed/);
    },
  },
  'unreason.dat': {
    parse: 'ok',
    answer: 'none',
    check: (m) => expect(m.msg.kind === 'response' && m.msg.reason).toContain('2**3 * 5**2'),
  },
  'noreason.dat': {
    parse: 'ok',
    answer: 'none',
    check: (m) => expect(m.msg.kind === 'response' && [m.msg.status, m.msg.reason]).toEqual([100, '']),
  },
  'badinv01.dat': { parse: 'error', answer: 400 },
  'clerr.dat': { parse: 'error', answer: 400 },
  'ncl.dat': { parse: 'error', answer: 400 },
  'scalar02.dat': { parse: 'error', answer: 400 },
  'scalarlg.dat': { parse: 'error', answer: 'none' },
  'quotbal.dat': { parse: 'error', answer: 400 },
  'ltgtruri.dat': { parse: 'error', answer: 400 },
  'lwsruri.dat': { parse: 'error', answer: 400 },
  'lwsstart.dat': { parse: 'error', answer: 400 },
  'trws.dat': { parse: 'error', answer: 400 },
  'escruri.dat': { parse: 'error', answer: 400 },
  'baddate.dat': { parse: 'ok', answer: 480, live: 200, allowed: [400, 480] }, // liberal: the bad Date is ignored
  'regbadct.dat': { parse: 'error', answer: 400 },
  'badaspec.dat': { parse: 'error', answer: 400 },
  'baddn.dat': { parse: 'error', answer: 400 },
  'badvers.dat': { parse: 'error', answer: 505 },
  'mismatch01.dat': { parse: 'error', answer: 400 },
  'mismatch02.dat': { parse: 'error', answer: 400, allowed: [400, 501] },
  'bigcode.dat': { parse: 'error', answer: 'none' },
  'badbranch.dat': { parse: 'ok', answer: 200, allowed: [200, 400] }, // RFC 2543 matching fallback
  'insuf.dat': { parse: 'error', answer: 400 },
  'unkscm.dat': { parse: 'ok', answer: 416 },
  'novelsc.dat': { parse: 'ok', answer: 416 },
  'unksm2.dat': {
    parse: 'ok',
    answer: 405,
    check: (m) => {
      expect(m.to.uri).toEqual({ kind: 'absolute', scheme: 'isbn', opaque: '2983792873' });
      expect(m.from.uri.kind === 'absolute' && m.from.uri.scheme).toBe('http');
    },
  },
  'bext01.dat': { parse: 'ok', answer: 420 },
  'invut.dat': { parse: 'ok', answer: 415 },
  'regaut01.dat': { parse: 'ok', answer: 405 },
  'multi01.dat': { parse: 'error', answer: 400 },
  'mcl01.dat': { parse: 'error', answer: 400 },
  'bcast.dat': { parse: 'ok', answer: 'none' },
  'zeromf.dat': {
    parse: 'ok',
    answer: 200,
    allowed: [200, 483],
    check: (m) => expect(m.maxForwards).toBe(0),
  },
  'cparam01.dat': {
    parse: 'ok',
    answer: 405,
    check: (m) => {
      const c = parseNameAddr(headerValues(m.msg, 'contact')[0]!);
      expect(c.ok && param(c.value.params, 'unknownparam')).toBe(null);
      expect(c.ok && c.value.uri.kind === 'sip' && c.value.uri.params).toEqual([]);
    },
  },
  'cparam02.dat': {
    parse: 'ok',
    answer: 405,
    check: (m) => {
      const c = parseNameAddr(headerValues(m.msg, 'contact')[0]!);
      expect(c.ok && c.value.uri.kind === 'sip' && c.value.uri.params.map(([n]) => n)).toEqual([
        'unknownparam',
      ]);
    },
  },
  'regescrt.dat': {
    parse: 'ok',
    answer: 405,
    check: (m) => {
      const c = parseNameAddr(headerValues(m.msg, 'contact')[0]!);
      expect(c.ok && c.value.uri.kind === 'sip' && c.value.uri.headers).toEqual([
        ['Route', '%3Csip:sip.example.com%3E'],
      ]);
    },
  },
  'sdp01.dat': { parse: 'ok', answer: 406 },
  'inv2543.dat': {
    parse: 'ok',
    answer: 480,
    live: 200,
    check: (m) => {
      expect(m.fromTag).toBeUndefined();
      expect(m.maxForwards).toBeUndefined();
      expect(m.msg.body.length).toBe(105); // no Content-Length: the rest of the datagram
    },
  },
};
