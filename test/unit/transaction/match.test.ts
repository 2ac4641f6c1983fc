import { describe, expect, it } from 'vitest';
import {
  clientKeyOfRequest,
  clientKeyOfResponse,
  isRfc3261Branch,
  serverKey,
} from '../../../src/sip/transaction/match.ts';
import { parsedRequest, responseTo } from '../../helpers/messages.ts';

describe('transaction matching (RFC 3261 17.1.3, 17.2.3)', () => {
  it('server: branch + sent-by + method; ACK maps to INVITE; CANCEL is its own transaction', () => {
    const invite = serverKey(parsedRequest({ branch: 'z9hG4bK-1' }));
    expect(serverKey(parsedRequest({ branch: 'z9hG4bK-1', method: 'ACK' }))).toBe(invite);
    expect(serverKey(parsedRequest({ branch: 'z9hG4bK-1', method: 'CANCEL' }))).not.toBe(invite);
    expect(serverKey(parsedRequest({ branch: 'z9hG4bK-1', method: 'CANCEL' }), 'INVITE')).toBe(invite);
    expect(serverKey(parsedRequest({ branch: 'z9hG4bK-2' }))).not.toBe(invite);
    expect(serverKey(parsedRequest({ branch: 'z9hG4bK-1', sentBy: '127.0.0.1:6000' }))).not.toBe(invite);
    // the Call-ID does not matter when the branch is RFC 3261 compliant
    expect(serverKey(parsedRequest({ branch: 'z9hG4bK-1', callId: 'other' }))).toBe(invite);
  });

  it('server, RFC 2543 fallback: Request-URI, From tag, Call-ID, CSeq number and top Via', () => {
    const base = { branch: 'old-style-1' };
    const invite = serverKey(parsedRequest(base));
    expect(serverKey(parsedRequest({ ...base, method: 'ACK', cseqMethod: 'ACK', toTag: 'us' }))).toBe(invite);
    expect(serverKey(parsedRequest({ ...base, callId: 'other' }))).not.toBe(invite);
    expect(serverKey(parsedRequest({ ...base, fromTag: 'other' }))).not.toBe(invite);
    expect(serverKey(parsedRequest({ ...base, cseq: 2 }))).not.toBe(invite);
    expect(serverKey(parsedRequest({ ...base, ruri: 'sip:other@127.0.0.1' }))).not.toBe(invite);
  });

  it('a bare magic cookie is not an RFC 3261 branch (RFC 4475 3.2.1)', () => {
    expect(isRfc3261Branch('z9hG4bK')).toBe(false);
    expect(isRfc3261Branch('z9hG4bKx')).toBe(true);
    expect(isRfc3261Branch('390skdjuw')).toBe(false);
  });

  it('client: the top Via branch and the CSeq method', () => {
    const req = parsedRequest({ branch: 'z9hG4bK-c', method: 'OPTIONS' });
    expect(clientKeyOfResponse(responseTo(req, 200))).toBe(clientKeyOfRequest(req));
  });
});
