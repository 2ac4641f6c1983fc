import { describe, expect, it } from 'vitest';
import { answerOffer, chooseMedia, createOffer, parseSdp, sdpFromBody } from '../../../src/sdp/index.ts';

const local = { address: '127.0.0.1', port: 31000, sessionId: '42', sessionVersion: 1 };
const opts = { codecs: ['PCMU', 'PCMA'] as const, order: 'offer' as const };
const sdp = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;
const offer = (media: string[], session: string[] = ['c=IN IP4 10.0.0.1']) =>
  sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', ...session, 't=0 0', ...media);

function answer(text: string, o = opts) {
  const p = parseSdp(text);
  if (!p.ok) throw new Error(p.error);
  return answerOffer(p.value, local, { ...o, codecs: [...o.codecs] });
}

describe('SDP offer/answer (RFC 3264)', () => {
  it('answers with the first supported codec of the offer, rtpmap, telephone-event, ptime 20', () => {
    const a = answer(
      offer(['m=audio 4000 RTP/AVP 18 8 0 101', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-15']),
    );
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect([a.value.codec, a.value.payloadType, a.value.dtmfPayloadType]).toEqual(['PCMA', 8, 101]);
    expect(a.value.remote).toEqual({ address: '10.0.0.1', port: 4000 });
    expect(a.value.sdp).toContain('m=audio 31000 RTP/AVP 8 101\r\n');
    expect(a.value.sdp).toContain('a=rtpmap:8 PCMA/8000\r\n');
    expect(a.value.sdp).toContain('a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n');
    expect(a.value.sdp).toContain('a=ptime:20\r\na=sendrecv\r\n');
    expect(a.value.sdp).toContain('c=IN IP4 127.0.0.1\r\n');
    expect(parseSdp(a.value.sdp).ok).toBe(true);
  });

  it('our preference order when configured so', () => {
    const a = answer(offer(['m=audio 4000 RTP/AVP 0 8']), {
      codecs: ['PCMA', 'PCMU'],
      order: 'local',
    } as never);
    expect(a.ok && a.value.codec).toBe('PCMA');
  });

  it('a dynamic payload type named PCMU is recognised; a static number remapped to another codec is not', () => {
    const a = answer(offer(['m=audio 4000 RTP/AVP 96', 'a=rtpmap:96 PCMU/8000']));
    expect(a.ok && a.value.payloadType).toBe(96);
    const b = answer(offer(['m=audio 4000 RTP/AVP 0', 'a=rtpmap:0 opus/48000/2']));
    expect(b.ok).toBe(false);
  });

  it('no common codec -> an error (the UAS answers 488)', () => {
    const a = answer(offer(['m=audio 4000 RTP/AVP 18 9', 'a=rtpmap:18 G729/8000']));
    expect(!a.ok && a.error).toMatch(/no common codec/);
  });

  it('session-level c= works (the original answered 500), media-level c= wins', () => {
    const a = answer(offer(['m=audio 4000 RTP/AVP 0', 'c=IN IP4 10.9.9.9']));
    expect(a.ok && a.value.remote).toEqual({ address: '10.9.9.9', port: 4000 });
    const noC = parseSdp(sdp('v=0', 'o=- 1 1 IN IP4 h', 's=-', 't=0 0', 'm=audio 4000 RTP/AVP 0'));
    expect(noC.ok).toBe(false);
  });

  it('directions: sendonly -> recvonly, recvonly -> sendonly, inactive -> inactive; c=0.0.0.0 is hold', () => {
    const dir = (d: string) => {
      const a = answer(offer(['m=audio 4000 RTP/AVP 0', `a=${d}`]));
      return a.ok ? a.value.direction : 'error';
    };
    expect([dir('sendonly'), dir('recvonly'), dir('inactive'), dir('sendrecv')]).toEqual([
      'recvonly',
      'sendonly',
      'inactive',
      'sendrecv',
    ]);
    const hold = answer(offer(['m=audio 4000 RTP/AVP 0'], ['c=IN IP4 0.0.0.0']));
    expect(hold.ok && [hold.value.direction, hold.value.remote]).toEqual(['recvonly', undefined]);
  });

  it('keeps one m= line per offered stream, rejecting the others with port 0', () => {
    const a = answer(offer(['m=video 5000 RTP/AVP 31', 'm=audio 4000 RTP/AVP 0']));
    expect(a.ok && a.value.sdp).toMatch(/m=video 0 RTP\/AVP 31\r\nm=audio 31000 RTP\/AVP 0\r\n/);
  });

  it('IPv6 offers parse (RFC 5118 4.6)', () => {
    const a = answer(offer(['m=audio 4000 RTP/AVP 0'], ['c=IN IP6 2001:db8::1']));
    expect(a.ok && a.value.remote).toEqual({ address: '2001:db8::1', port: 4000 });
  });

  it('our offer: PCMU, PCMA, telephone-event 101, ptime 20; an answer to it picks the codec', () => {
    const text = createOffer(local, ['PCMU', 'PCMA']);
    expect(text).toContain('m=audio 31000 RTP/AVP 0 8 101\r\n');
    expect(text).toContain('a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n');
    const reply = parseSdp(offer(['m=audio 6100 RTP/AVP 8 101', 'a=rtpmap:101 telephone-event/8000']));
    const chosen = reply.ok ? chooseMedia(reply.value, opts) : undefined;
    expect(chosen?.ok && [chosen.value.codec, chosen.value.remote]).toEqual([
      'PCMA',
      { address: '10.0.0.1', port: 6100 },
    ]);
  });

  it('rejects malformed SDP with a reason, never throws', () => {
    for (const bad of [
      '',
      'v=1\r\n',
      offer(['m=audio x RTP/AVP 0']),
      offer(['m=audio 4000 RTP/AVP 0', 'c=IN IP4 nope']),
      'v=0\r\nxx\r\n',
    ]) {
      expect(parseSdp(bad).ok).toBe(false);
    }
  });

  it('ignores attributes it cannot read (RFC 4475 sends a=rtpmap:31 LPC)', () => {
    const a = answer(offer(['m=audio 4000 RTP/AVP 0 31', 'a=rtpmap:31 LPC', 'a=x-custom']));
    expect(a.ok && a.value.codec).toBe('PCMU');
  });

  it('finds the SDP part of a multipart/mixed body', () => {
    const body = Buffer.from(
      '--b1\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1--\r\n',
    );
    expect(sdpFromBody('multipart/mixed;boundary=b1', body)).toBe('v=0');
    expect(sdpFromBody('application/sdp', Buffer.from('v=0\r\n'))).toBe('v=0\r\n');
    expect(sdpFromBody('text/plain', Buffer.from('x'))).toBeUndefined();
  });
});
