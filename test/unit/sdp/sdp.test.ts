import { describe, expect, it } from 'vitest';
import { masterKeyLength, SRTP_SUITES, type SrtpSuite } from '../../../src/rtp/srtp.ts';
import {
  answerOffer,
  chooseMedia,
  createOffer,
  offerCrypto,
  parseSdp,
  sdpFromBody,
} from '../../../src/sdp/index.ts';

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

describe('SDES in SDP (RFC 4568)', () => {
  const key = Buffer.alloc(30, 7);
  const savp = (crypto: string[], proto = 'RTP/SAVP') =>
    [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      `m=audio 7000 ${proto} 0 101`,
      ...crypto,
      'a=rtpmap:101 telephone-event/8000',
      '',
    ].join('\r\n');
  const local = { address: '127.0.0.1', port: 20000, sessionId: '1', sessionVersion: 1 };
  const opts = (
    mode: 'off' | 'offer' | 'require',
    secure = true,
    suites: readonly SrtpSuite[] = SRTP_SUITES,
  ) => ({
    codecs: ['PCMU', 'PCMA'] as const,
    order: 'offer' as const,
    srtp: { mode, secure, suites, newKey: (s: SrtpSuite) => new Uint8Array(masterKeyLength(s)).fill(9) },
  });
  const offer = (crypto: string[], proto?: string) => {
    const p = parseSdp(savp(crypto, proto));
    if (!p.ok) throw new Error(p.error);
    return p.value;
  };

  it('parses the inline key; an MKI, a second key or a session parameter leave it out', () => {
    const b64 = key.toString('base64');
    const m = offer([
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${b64}|2^20`,
      `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${b64}|2^20|1:4`,
      `a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:${b64} UNENCRYPTED_SRTP`,
    ]).media[0]!;
    expect(m.crypto.map((c) => [c.tag, c.suite, c.key ? Buffer.from(c.key).equals(key) : false])).toEqual([
      [1, 'AES_CM_128_HMAC_SHA1_80', true],
      [2, 'AES_CM_128_HMAC_SHA1_32', false],
      [3, 'AES_CM_128_HMAC_SHA1_80', false],
    ]);
  });

  it('answers the first supported suite with its tag, RTP/SAVP and our own key', () => {
    const o = offer([
      `a=crypto:1 AEAD_AES_256_GCM inline:${Buffer.alloc(44).toString('base64')}`,
      `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${key.toString('base64')}`,
    ]);
    const a = answerOffer(o, local, opts('offer'));
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.value.sdp).toMatch(/^m=audio 20000 RTP\/SAVP 0 101$/m);
    expect(a.value.sdp).toMatch(
      new RegExp(
        `^a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${Buffer.alloc(30, 9).toString('base64')}$`,
        'm',
      ),
    );
    expect(a.value.srtp).toMatchObject({ suite: 'AES_CM_128_HMAC_SHA1_32', tag: 2 });
    expect(Buffer.from(a.value.srtp!.remote).equals(key)).toBe(true);
  });

  it('refusals: SRTP off, keys over a plain transport, no usable suite, and a plain offer under require', () => {
    const o = offer([`a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${key.toString('base64')}`]);
    expect(chooseMedia(o, opts('off'))).toMatchObject({ ok: false, error: 'SRTP is off (SRTP=off)' });
    expect(chooseMedia(o, opts('offer', false))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/only over TLS/),
    });
    expect(chooseMedia(offer(['a=crypto:1 F8_128_HMAC_SHA1_80 inline:abcd']), opts('offer'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^no crypto suite we take/),
    });
    const plain = offer([], 'RTP/AVP');
    expect(chooseMedia(plain, opts('require'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/SRTP is required/),
    });
    expect(chooseMedia(plain, opts('offer')).ok).toBe(true);
  });

  it('our offer carries every suite with its own key; the answer is matched by tag', () => {
    let n = 0;
    const crypto = offerCrypto({
      suites: SRTP_SUITES,
      newKey: (s) => new Uint8Array(masterKeyLength(s)).fill(++n),
    });
    const sdp = createOffer(local, ['PCMU'], 'sendrecv', crypto);
    expect(sdp).toMatch(/^m=audio 20000 RTP\/SAVP 0 101$/m);
    expect(sdp.match(/^a=crypto:.*$/gm)).toEqual([
      `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${Buffer.alloc(30, 1).toString('base64')}`,
      `a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${Buffer.alloc(30, 2).toString('base64')}`,
      `a=crypto:3 AEAD_AES_128_GCM inline:${Buffer.alloc(28, 3).toString('base64')}`,
    ]);
    const answer = offer([`a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:${key.toString('base64')}`]);
    const chosen = chooseMedia(answer, {
      ...opts('offer'),
      srtp: { ...opts('offer').srtp, offered: crypto },
    });
    expect(chosen.ok && chosen.value.srtp?.local).toEqual(new Uint8Array(30).fill(2));
    const wrongTag = offer([`a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:${key.toString('base64')}`]);
    expect(
      chooseMedia(wrongTag, { ...opts('offer'), srtp: { ...opts('offer').srtp, offered: crypto } }).ok,
    ).toBe(false);
  });

  it('AEAD_AES_128_GCM takes a 28-byte key (RFC 7714 14.2); SRTP_SUITES limits what we take, the offer order wins', () => {
    const gcm = Buffer.alloc(28, 5).toString('base64');
    const o = offer([
      `a=crypto:1 AEAD_AES_128_GCM inline:${Buffer.alloc(30, 5).toString('base64')}`,
      `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${key.toString('base64')}`,
      `a=crypto:3 AEAD_AES_128_GCM inline:${gcm}`,
    ]);
    // a GCM line with an AES-CM length of key is skipped; the offerer's first usable one is taken
    expect(chooseMedia(o, opts('offer'))).toMatchObject({ ok: true, value: { srtp: { tag: 2 } } });
    const onlyGcm = chooseMedia(o, opts('offer', true, ['AEAD_AES_128_GCM']));
    expect(onlyGcm).toMatchObject({ ok: true, value: { srtp: { tag: 3, suite: 'AEAD_AES_128_GCM' } } });
    expect(onlyGcm.ok && onlyGcm.value.srtp?.local.length).toBe(28);
    const a = answerOffer(o, local, opts('offer', true, ['AEAD_AES_128_GCM']));
    expect(a.ok && a.value.sdp).toMatch(
      new RegExp(`^a=crypto:3 AEAD_AES_128_GCM inline:${Buffer.alloc(28, 9).toString('base64')}$`, 'm'),
    );
    const cmOnly = offer([`a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${key.toString('base64')}`]);
    expect(chooseMedia(cmOnly, opts('offer', true, ['AEAD_AES_128_GCM']))).toMatchObject({
      ok: false,
      error: 'no crypto suite we take (AEAD_AES_128_GCM) with an inline key of its length',
    });
  });
});
