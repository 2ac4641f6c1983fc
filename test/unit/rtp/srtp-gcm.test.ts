import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SrtpContext } from '../../../src/rtp/srtp.ts';
import { GcmCipher } from '../../../src/rtp/srtp-gcm.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 7714 section 16 and 17: the vectors give the session key (00..0f) and the 96-bit session salt
// ("Quid pro quo"), not a master key, so they drive the cipher directly.
const session = { key: hex('000102030405060708090a0b0c0d0e0f'), salt: hex('517569642070726f2071756f') };
const vectorCipher = () => new GcmCipher(session, session);

const RTP_PLAIN = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973
  20646976 69736120 696e2070 61727465 73207472 6573`);
const RTCP_PLAIN = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
  deadbeef deadbeef deadbeef deadbeef deadbeef`);

describe('AEAD_AES_128_GCM against RFC 7714 sections 16 and 17', () => {
  const open = (wire: Buffer, roc = 0) => {
    const buf = Buffer.from(wire);
    const n = vectorCipher().openRtp(buf, 12, 0x5501a0b2, roc, 0xf17b);
    return n < 0 ? undefined : buf.subarray(0, n);
  };

  it('16.1.1: the RTP packet (SSRC 5501a0b2, ROC 0, SEQ f17b) encrypted and tagged, and back', () => {
    const sealed = Buffer.alloc(RTP_PLAIN.length + 16);
    RTP_PLAIN.copy(sealed);
    expect(vectorCipher().sealRtp(sealed, RTP_PLAIN.length, 12, 0x5501a0b2, 0, 0xf17b)).toBe(sealed.length);
    expect(sealed.toString('hex')).toBe(
      hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5
        0d294e6f 42a5f47a 51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`).toString('hex'),
    );
    expect(open(sealed)).toEqual(RTP_PLAIN);
    // one bit of the ciphertext, of the header (AAD) or another ROC (the IV): not authentic
    for (const at of [20, 1]) {
      const bad = Buffer.from(sealed);
      bad[at] = bad[at]! ^ 1;
      expect(open(bad)).toBeUndefined();
    }
    expect(open(sealed, 1)).toBeUndefined();
  });

  it('17.1: the sender report (SSRC 4d617273, SRTCP index 5d4) encrypted, tag, then E flag and index', () => {
    const sealed = vectorCipher().sealRtcp(RTCP_PLAIN, 0x4d617273, 0x5d4);
    expect(sealed.toString('hex')).toBe(
      hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1
        730d6fda 4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`).toString('hex'),
    );
    const cipher = vectorCipher();
    expect(cipher.rtcpWord(sealed)).toBe(0x800005d4);
    expect(cipher.openRtcp(sealed, 0x4d617273, 0x800005d4)).toEqual(RTCP_PLAIN);
  });

  it('9.3: an SRTCP packet with E = 0 is authenticated over all of it and taken unencrypted', () => {
    // the peer's side, from the RFC's layout: AAD = the RTCP packet || (E = 0 | index), no plaintext
    const word = Buffer.from([0, 0, 0x05, 0xd4]);
    const iv = hex('517569642070726f2071756f');
    iv.writeUInt32BE((iv.readUInt32BE(2) ^ 0x4d617273) >>> 0, 2);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ 0x5d4) >>> 0, 8);
    const c = createCipheriv('aes-128-gcm', session.key, iv);
    c.setAAD(Buffer.concat([RTCP_PLAIN, word]));
    c.final();
    const packet = Buffer.concat([RTCP_PLAIN, c.getAuthTag(), word]);
    expect(vectorCipher().openRtcp(packet, 0x4d617273, 0x5d4)).toEqual(RTCP_PLAIN);
    packet[12] = packet[12]! ^ 1;
    expect(vectorCipher().openRtcp(packet, 0x4d617273, 0x5d4)).toBeUndefined();
  });
});

const master = { key: hex('00112233445566778899aabbccddeeff'), salt: hex('0102030405060708090a0b0c') };
const rtp = (seq: number, ssrc = 0x11223344) => {
  const p = Buffer.alloc(172);
  p[0] = 0x80;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 160) >>> 0, 4);
  p.writeUInt32BE(ssrc, 8);
  for (let i = 12; i < p.length; i++) p[i] = (i * seq) & 0xff;
  return p;
};

describe('AEAD_AES_128_GCM in an SRTP context', () => {
  it('a 16-byte tag, the header in clear, replay dropped, the rollover counter across the wrap', () => {
    const tx = new SrtpContext('AEAD_AES_128_GCM', master);
    const rx = new SrtpContext('AEAD_AES_128_GCM', master);
    for (let seq = 65_530; seq < 65_536 + 5; seq++) {
      const wire = tx.protectRtp(rtp(seq & 0xffff));
      expect(wire.length).toBe(172 + 16);
      expect(wire.subarray(0, 12)).toEqual(rtp(seq & 0xffff).subarray(0, 12));
      expect(rx.unprotectRtp(wire)).toEqual(rtp(seq & 0xffff));
      expect(rx.unprotectRtp(wire)).toBe('replay');
    }
    expect(rx.unprotectRtp(Buffer.alloc(20))).toBe('short');
    const rr = hex('81c90007 11223344 55667788 00000001 0000ffff 00000000 00000000 00000000');
    const sealed = tx.protectRtcp(rr);
    expect(sealed.length).toBe(rr.length + 16 + 4);
    expect(rx.unprotectRtcp(sealed)).toEqual(rr);
    expect(rx.unprotectRtcp(sealed)).toBe('replay');
  });

  it('a 30-byte AES-CM key is refused for GCM (its salt is 12 bytes)', () => {
    expect(() => new SrtpContext('AEAD_AES_128_GCM', { key: master.key, salt: Buffer.alloc(14) })).toThrow(
      /12-byte salt/,
    );
  });
});
