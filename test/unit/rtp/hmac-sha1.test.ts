import { createHmac, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HmacSha1 } from '../../../src/rtp/hmac-sha1.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('HMAC-SHA1 (RFC 2104) without a native object per packet', () => {
  it('RFC 2202 test cases 1, 2 and 3', () => {
    expect(hex(new HmacSha1(Buffer.alloc(20, 0x0b)).mac(Buffer.from('Hi There')))).toBe(
      'b617318655057264e28bc0b6fb378c8ef146be00',
    );
    expect(hex(new HmacSha1(Buffer.from('Jefe')).mac(Buffer.from('what do ya want for nothing?')))).toBe(
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    );
    expect(hex(new HmacSha1(Buffer.alloc(20, 0xaa)).mac(Buffer.alloc(50, 0xdd)))).toBe(
      '125d7342b9ac11cd91a39af48aa17b4f63f175d3',
    );
  });

  it('equals node:crypto for any key up to 64 bytes and any two parts (lengths across block edges)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.nat(20),
        (key, a, b, cut) => {
          // the first part may be the front of a longer buffer (a packet with room for its tag)
          const used = Math.max(0, a.length - cut);
          const ours = hex(new HmacSha1(key).mac(a, used, b));
          expect(ours).toBe(createHmac('sha1', key).update(a.subarray(0, used)).update(b).digest('hex'));
        },
      ),
      { numRuns: 500 },
    );
    const key = randomBytes(20);
    const h = new HmacSha1(key);
    for (let n = 0; n < 200; n++) {
      const data = randomBytes(n);
      expect(hex(h.mac(data))).toBe(createHmac('sha1', key).update(data).digest('hex'));
    }
  });
});
