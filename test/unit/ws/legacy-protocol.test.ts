import { describe, expect, it } from 'vitest';
import {
  legacyCaller,
  legacyEvent,
  legacyRtp,
  parseLegacyCommand,
} from '../../../src/io/ws/legacy-protocol.ts';

describe('the original text protocol (PROTOCOL-legacy.md)', () => {
  it('RING_ANS caller: the From value cut at the first space, quotes removed', () => {
    expect(legacyCaller('"0903383638" <sip:0903383638@pbx>;tag=x')).toBe('0903383638');
    expect(legacyCaller('<sip:0911222333@127.0.0.1>;tag=tc1')).toBe('<sip:0911222333@127.0.0.1>;tag=tc1');
    expect(
      legacyEvent(
        { type: 'call.incoming', callId: 'a:b@c', from: '"0903383638" <sip:x@y>;tag=1', to: '', source: '' },
        undefined,
      ),
    ).toBe('RING_ANS:0903383638##a:b@c');
  });

  it('events: CALL_IGNORE only for 180, CALL_FAILED without call id, BYE only for calls that were up or incoming', () => {
    expect(legacyEvent({ type: 'call.ringing', callId: 'x', status: 180 }, undefined)).toBe('CALL_IGNORE:x');
    expect(legacyEvent({ type: 'call.ringing', callId: 'x', status: 183 }, undefined)).toBeUndefined();
    expect(
      legacyEvent({ type: 'call.failed', callId: 'x', status: 408, reason: 'Request Timeout' }, undefined),
    ).toBe('CALL_FAILED:408 Request Timeout');
    const ended = (reason: 'remote-bye' | 'failed' | 'cancelled') =>
      ({ type: 'call.ended', callId: 'x', direction: 'outgoing', reason, status: undefined }) as const;
    expect(legacyEvent(ended('remote-bye'), { direction: 'outgoing', answered: true })).toBe('BYE:x');
    expect(legacyEvent(ended('remote-bye'), { direction: 'outgoing', answered: false })).toBeUndefined();
    expect(legacyEvent(ended('failed'), { direction: 'outgoing', answered: false })).toBeUndefined();
    expect(legacyEvent({ type: 'call.cancelled', callId: 'x' }, undefined)).toBe('RING_IGNORE:x');
    expect(legacyRtp(8, Uint8Array.of(0xd5, 0x0a))).toBe('RTP:8##d50a');
  });

  it('commands split at the FIRST colon, so Call-IDs with colons work', () => {
    expect(parseLegacyCommand('HANGUP:abc:def@10.0.0.1:5060')).toEqual({
      kind: 'hangup',
      callId: 'abc:def@10.0.0.1:5060',
    });
    expect(parseLegacyCommand('CALL_ANS:a:b')).toEqual({ kind: 'answer', callId: 'a:b' });
    const rtp = parseLegacyCommand('RTP:id:with:colons##AQACAA==');
    expect(rtp).toMatchObject({ kind: 'rtp', callId: 'id:with:colons' });
    expect('pcm' in rtp && [...rtp.pcm]).toEqual([1, 2]);
    expect(parseLegacyCommand('BYE')).toEqual({ kind: 'hangup', callId: undefined });
    expect(parseLegacyCommand('CALL:+886912345678')).toEqual({ kind: 'call', number: '+886912345678' });
    expect(parseLegacyCommand('CALL:091234567890123456')).toMatchObject({
      error: expect.stringContaining('bad number'),
    });
  });
});
