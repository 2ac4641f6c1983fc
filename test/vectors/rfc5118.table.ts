import { expect } from 'vitest';
import { header } from '../../src/sip/message/headers.ts';
import { param } from '../../src/sip/message/params.ts';
import type { ParsedMessage, ParsedRequest } from '../../src/sip/message/parse.ts';
import type { Table } from './expectations.ts';

const ruri = (m: ParsedMessage) => {
  const u = (m as ParsedRequest).ruri;
  if (u.kind !== 'sip') throw new Error('not a SIP URI');
  return u;
};

export const RFC5118: Table = {
  'ipv6-good': { parse: 'ok', answer: 405, check: (m) => expect(ruri(m).host).toBe('[2001:db8::10]') },
  'ipv6-bad': { parse: 'error', answer: 400 },
  'port-ambiguous': {
    parse: 'ok',
    answer: 405,
    check: (m) => {
      // RFC 5118 4.3: "[2001:db8::10:5070]" is an address without a port
      expect(ruri(m).host).toBe('[2001:db8::10:5070]');
      expect(ruri(m).port).toBeUndefined();
    },
  },
  'port-unambiguous': {
    parse: 'ok',
    answer: 405,
    check: (m) => expect([ruri(m).host, ruri(m).port]).toEqual(['[2001:db8::10]', 5070]),
  },
  'via-received-param-with-delim': {
    parse: 'ok',
    answer: 481, // a BYE for a dialog we do not have
    check: (m) => expect(param(m.via[0]!.params, 'received')).toBe('[2001:db8::9:255]'),
  },
  'via-received-param-no-delim': {
    parse: 'ok',
    answer: 200,
    check: (m) => expect(param(m.via[0]!.params, 'received')).toBe('2001:db8::9:255'),
  },
  'ipv6-in-sdp': { parse: 'error', answer: 400 }, // the RFC's own Content-Length is 17 bytes too long
  'ipv6-in-sdp.ersip-CL241': { parse: 'ok', answer: 480, live: 488 },
  'mult-ip-in-header': {
    parse: 'ok',
    answer: 481,
    check: (m) =>
      expect(m.via.map((v) => [v.host, v.port])).toEqual([
        ['[2001:db8::9:1]', 6050],
        ['192.0.2.1', undefined],
        ['[2001:db8::9:255]', undefined],
      ]),
  },
  'mult-ip-in-sdp': {
    parse: 'ok',
    answer: 480,
    live: 200,
    check: (m) => expect(m.msg.body.length).toBe(Number(header(m.msg, 'content-length'))), // truncated to 181
  },
  'ipv4-mapped-ipv6': {
    parse: 'ok',
    answer: 480,
    live: 488,
    check: (m) => expect(m.via.map((v) => v.host)).toEqual(['[::ffff:192.0.2.10]', '[::ffff:192.0.2.2]']),
  },
  'ipv6-bug-abnf-3-colons': { parse: 'error', answer: 400 },
  'ipv6-correct-abnf-2-colons': {
    parse: 'ok',
    answer: 200,
    check: (m) => expect(ruri(m).host).toBe('[2001:db8::192.0.2.1]'),
  },
};
