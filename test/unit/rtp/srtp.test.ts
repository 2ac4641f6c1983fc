import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtcpSession,
  SrtpSession,
} from 'werift-rtp';
import { SrtpContext, type SrtpSuite } from '../../../src/rtp/srtp.ts';
import { deriveSessionKey } from '../../../src/rtp/srtp-cipher.ts';
import { AesCm } from '../../../src/rtp/srtp-cm.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation): published test vectors.
describe('SRTP primitives against RFC 3711 Appendix B', () => {
  it('B.2: the AES-CM keystream for session key 2B7E..., salt F0F1...FD, SSRC 0, index 0', () => {
    const cm = new AesCm(hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'));
    const zeros = Buffer.alloc(48);
    cm.crypt(zeros, 0, 0, 0, 0);
    expect(zeros.toString('hex').toUpperCase()).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0',
    );
  });

  it('B.3: cipher key, salt and authentication key from master key E1F9... and salt 0EC6...', () => {
    const master = {
      key: hex('E1F97A0D3E018BE0D64FA32C06DE4139'),
      salt: hex('0EC675AD498AFEEBB6960B3AABE6'),
    };
    expect(deriveSessionKey(master, 0, 16).toString('hex').toUpperCase()).toBe(
      'C61E7A93744F39EE10734AFE3FF7A087',
    );
    expect(deriveSessionKey(master, 2, 14).toString('hex').toUpperCase()).toBe(
      '30CBBC08863D8C85D49DB34A9AE1',
    );
    expect(deriveSessionKey(master, 1, 20).toString('hex').toUpperCase()).toBe(
      'CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4',
    );
  });
});

describe('AES-CM keystream made ahead', () => {
  it('a batch of 16 packets gives each packet the keystream one made alone gives (any order, SSRC, size)', () => {
    const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
    const salt = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD');
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ssrc: fc.constantFrom(0x11223344, 0xdeadbeef),
            // near a sequence wrap and across rollover counts, in and out of order
            index: fc.integer({ min: 0x1fff0, max: 0x20030 }),
            length: fc.constantFrom(4, 160, 172, 300),
          }),
          { maxLength: 60 },
        ),
        (packets) => {
          const ahead = new AesCm(key, salt, 16);
          const alone = new AesCm(key, salt, 1);
          for (const p of packets) {
            const a = Buffer.alloc(12 + p.length, 0xa5);
            const b = Buffer.from(a);
            ahead.crypt(a, 12, p.ssrc, Math.floor(p.index / 0x10000), p.index & 0xffff);
            alone.crypt(b, 12, p.ssrc, Math.floor(p.index / 0x10000), p.index & 0xffff);
            expect(a).toEqual(b);
          }
        },
      ),
    );
  });
});

const master = { key: hex('00112233445566778899aabbccddeeff'), salt: hex('0102030405060708090a0b0c0d0e') };
const rtp = (seq: number, payload = Buffer.alloc(160, 0x55), ssrc = 0x11223344) => {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 0;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE((seq * 160) >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return Buffer.concat([h, payload]);
};
const pair = (suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80') =>
  [new SrtpContext(suite, master), new SrtpContext(suite, master)] as const;

describe('SRTP round trips, tags, replay and the rollover counter', () => {
  for (const [suite, tag] of [
    ['AES_CM_128_HMAC_SHA1_80', 10],
    ['AES_CM_128_HMAC_SHA1_32', 4],
  ] as const) {
    it(`${suite}: the payload is encrypted, the header is not, the tag is ${tag} bytes, and it comes back`, () => {
      const [tx, rx] = pair(suite);
      const plain = rtp(1000);
      const wire = tx.protectRtp(plain);
      expect(wire.length).toBe(plain.length + tag);
      expect(wire.subarray(0, 12)).toEqual(plain.subarray(0, 12));
      expect(wire.subarray(12, 172).equals(plain.subarray(12))).toBe(false);
      expect(rx.unprotectRtp(wire)).toEqual(plain);
    });
  }

  it('a changed bit or another key fails authentication; the same packet twice is a replay', () => {
    const [tx, rx] = pair();
    const wire = tx.protectRtp(rtp(7));
    const bad = Buffer.from(wire);
    bad[40] = bad[40]! ^ 1;
    expect(rx.unprotectRtp(bad)).toBe('authentication');
    const other = new SrtpContext('AES_CM_128_HMAC_SHA1_80', {
      ...master,
      key: hex('ff112233445566778899aabbccddeeff'),
    });
    expect(other.unprotectRtp(wire)).toBe('authentication');
    expect(Buffer.isBuffer(rx.unprotectRtp(wire))).toBe(true);
    expect(rx.unprotectRtp(wire)).toBe('replay');
  });

  it('out of order within 64 packets is fine, each once; older than the window is dropped', () => {
    const [tx, rx] = pair();
    const wires = Array.from({ length: 100 }, (_, i) => tx.protectRtp(rtp(i)));
    expect(Buffer.isBuffer(rx.unprotectRtp(wires[99]!))).toBe(true);
    expect(Buffer.isBuffer(rx.unprotectRtp(wires[50]!))).toBe(true);
    expect(rx.unprotectRtp(wires[50]!)).toBe('replay');
    expect(rx.unprotectRtp(wires[20]!)).toBe('too old');
  });

  it('across the 16-bit sequence wrap the rollover counter keeps sender and receiver in step', () => {
    const [tx, rx] = pair();
    for (let seq = 65_530; seq < 65_536 + 10; seq++) {
      const plain = rtp(seq & 0xffff);
      expect(rx.unprotectRtp(tx.protectRtp(plain))).toEqual(plain);
    }
    // a packet from before the wrap arriving after one from after it still decrypts (it is ROC 0's)
    const [tx2, rx2] = pair();
    const sent = [65_534, 65_535, 0, 1, 2].map((seq) => tx2.protectRtp(rtp(seq)));
    expect(rx2.unprotectRtp(sent[0]!)).toEqual(rtp(65_534));
    expect(rx2.unprotectRtp(sent[4]!)).toEqual(rtp(2));
    expect(rx2.unprotectRtp(sent[1]!)).toEqual(rtp(65_535));
    expect(rx2.unprotectRtp(sent[3]!)).toEqual(rtp(1));
  });

  it('SRTCP: encrypted after the first 8 bytes, E flag and index, 80-bit tag; replay dropped', () => {
    const [tx, rx] = pair('AES_CM_128_HMAC_SHA1_32');
    const rr = hex('81c90007 11223344 55667788 00000001 0000ffff 00000000 00000000 00000000');
    const wire = tx.protectRtcp(rr);
    expect(wire.length).toBe(rr.length + 4 + 10);
    expect(wire.subarray(0, 8)).toEqual(rr.subarray(0, 8));
    expect(wire.readUInt32BE(rr.length)).toBe(0x80000000);
    expect(rx.unprotectRtcp(wire)).toEqual(rr);
    expect(rx.unprotectRtcp(wire)).toBe('replay');
  });
});

describe('SRTP in place (the media path: no copy, no garbage)', () => {
  for (const suite of ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'] as const) {
    it(`${suite}: sealed in the packet's own buffer as a copy would be; opened as a view of the datagram`, () => {
      const m =
        suite === 'AEAD_AES_128_GCM' ? { key: master.key, salt: master.salt.subarray(0, 12) } : master;
      const [tx, copy, rx] = [
        new SrtpContext(suite, m),
        new SrtpContext(suite, m),
        new SrtpContext(suite, m),
      ];
      for (let seq = 65_534; seq < 65_536 + 3; seq++) {
        const plain = rtp(seq & 0xffff);
        const room = Buffer.alloc(plain.length + 16, 0xee);
        plain.copy(room);
        const n = tx.protectRtpInPlace(room, plain.length);
        expect(n).toBe(plain.length + tx.overhead);
        expect(room.subarray(0, n)).toEqual(copy.protectRtp(plain));
        const wire = Buffer.from(room.subarray(0, n));
        const opened = rx.unprotectRtpInPlace(wire);
        expect(opened).toEqual(plain);
        expect(Buffer.isBuffer(opened) && opened.buffer === wire.buffer).toBe(true);
      }
      expect(() => tx.protectRtpInPlace(rtp(9), 172)).toThrow(/no room after the packet for its tag/);
    });
  }
});

// werift-rtp's SRTP, key derivation included, for the two suites it does
for (const [suite, profile, salt] of [
  ['AES_CM_128_HMAC_SHA1_80', ProtectionProfileAes128CmHmacSha1_80, master.salt],
  ['AEAD_AES_128_GCM', ProtectionProfileAeadAes128Gcm, master.salt.subarray(0, 12)],
] as const) {
  describe(`interoperates with werift-rtp (${suite})`, () => {
    const m = { key: master.key, salt };
    const keys = {
      localMasterKey: m.key,
      localMasterSalt: salt,
      remoteMasterKey: m.key,
      remoteMasterSalt: salt,
    };
    const config = { keys, profile };

    it('SRTP both ways, across the sequence wrap', () => {
      const ours = new SrtpContext(suite, m);
      const theirs = new SrtpSession(config);
      const theirRx = new SrtpSession(config);
      const oursRx = new SrtpContext(suite, m);
      for (let seq = 65_500; seq < 65_536 + 40; seq++) {
        const plain = rtp(seq & 0xffff, Buffer.from(Array.from({ length: 160 }, (_, i) => (i * seq) & 0xff)));
        expect(theirRx.decrypt(ours.protectRtp(plain))).toEqual(plain);
        const p = RtpPacket.deSerialize(plain);
        expect(oursRx.unprotectRtp(theirs.encrypt(p.payload, p.header))).toEqual(plain);
      }
    });

    it('SRTCP both ways', () => {
      const rr = hex('81c90007 11223344 55667788 00000001 0000ffff 00000000 00000000 00000000');
      expect(new SrtcpSession(config).decrypt(new SrtpContext(suite, m).protectRtcp(rr))).toEqual(rr);
      expect(new SrtpContext(suite, m).unprotectRtcp(new SrtcpSession(config).encrypt(rr))).toEqual(rr);
    });
  });
}

describe('SRTP against hostile bytes', () => {
  it('unprotect never throws, whatever arrives: a rejection or a packet (every suite, RTP and RTCP)', () => {
    const contexts = (
      ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM'] as const
    ).map(
      (suite) =>
        new SrtpContext(suite, {
          key: master.key,
          salt: suite === 'AEAD_AES_128_GCM' ? master.salt.subarray(0, 12) : master.salt,
        }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(0x80, 0x90, 0x9f, 0x8f, 0x00),
        (bytes, first) => {
          const b = Buffer.from(bytes);
          if (b.length > 0) b[0] = first; // RTP version 2 with CSRCs and extensions too, or not RTP at all
          for (const c of contexts) {
            const r = c.unprotectRtpInPlace(Buffer.from(b));
            expect(typeof r === 'string' || Buffer.isBuffer(r)).toBe(true);
            const q = c.unprotectRtcp(b);
            expect(typeof q === 'string' || Buffer.isBuffer(q)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
