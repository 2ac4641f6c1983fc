import { sha1Block } from './sha1-block.ts';

/**
 * HMAC-SHA1 (RFC 2104, FIPS 180-4) for SRTP's per-packet tags, with the key's inner and outer pads hashed
 * once per session and nothing allocated per packet. node:crypto's createHmac makes a native object for
 * every packet (measured: 2.1 us each, and garbage the collector must finalise at 10,000+ packets a second);
 * one-shot crypto.hash twice and hash-wasm's HMAC were both slower per tag than this (their call overhead
 * outweighs native SHA-1 on 3-4 blocks). The block function is unrolled (sha1-block.ts, generated).
 * Checked against RFC 2202's test cases and node:crypto.
 */
export class HmacSha1 {
  /** The state after the key's inner pad (words 0-4) and outer pad (5-9): one object to reach per tag. */
  readonly #pads = new Int32Array(10);

  constructor(key: Uint8Array) {
    if (key.length > 64) throw new Error('HMAC-SHA1: keys longer than a block are not needed here');
    const pad = new Uint8Array(64);
    for (const [at, byte] of [
      [0, 0x36],
      [5, 0x5c],
    ] as const) {
      pad.fill(byte);
      for (let i = 0; i < key.length; i++) pad[i] = key[i]! ^ byte;
      H.set(INIT);
      sha1Block(H, pad, 0);
      this.#pads.set(H, at);
    }
  }

  /**
   * The tag of `a[0..aLength)` followed by `b` (the packet, then the ROC): a scratch buffer, copy what you
   * keep.
   */
  mac(a: Uint8Array, aLength: number = a.length, b?: Uint8Array): Uint8Array {
    const h = H;
    const pads = this.#pads;
    copy5(h, pads, 0);
    this.#hash(h, a, aLength, b, 64 + aLength + (b?.length ?? 0));
    // the outer hash's one block is fixed but for the inner digest: digest, 0x80, zeros, 84 bytes in bits
    bytes5(OUTER, h);
    copy5(h, pads, 5);
    sha1Block(h, OUTER, 0);
    bytes5(DIGEST, h);
    return DIGEST;
  }

  /** Hashes a || b into h, then the padding; `total` counts the bytes already in h (one block) too. */
  #hash(h: Int32Array, a: Uint8Array, aLength: number, b: Uint8Array | undefined, total: number): void {
    const block = BLOCK;
    // whole blocks straight from `a`; the rest of `a`, then `b`, through the block buffer
    let at = 0;
    for (; at + 64 <= aLength; at += 64) sha1Block(h, a, at);
    let filled = 0;
    for (; at < aLength; at++) block[filled++] = a[at]!;
    if (b)
      for (let i = 0; i < b.length; i++) {
        block[filled++] = b[i]!;
        if (filled === 64) {
          sha1Block(h, block, 0);
          filled = 0;
        }
      }
    // FIPS 180-4 5.1.1: 0x80, zeros, the length in bits as 64 bits
    block[filled++] = 0x80;
    if (filled > 56) {
      while (filled < 64) block[filled++] = 0;
      sha1Block(h, block, 0);
      filled = 0;
    }
    while (filled < 56) block[filled++] = 0;
    const bits = total * 8;
    const high = (bits / 0x100000000) | 0;
    block[56] = high >>> 24;
    block[57] = high >>> 16;
    block[58] = high >>> 8;
    block[59] = high;
    block[60] = bits >>> 24;
    block[61] = bits >>> 16;
    block[62] = bits >>> 8;
    block[63] = bits;
    sha1Block(h, block, 0);
  }
}

// Scratch space every instance shares (each tag is made at once, synchronously): it stays in cache where
// 500 calls' own copies would not.
/** The hash state being worked on. */
const H = new Int32Array(5);
const BLOCK = new Uint8Array(64);
const DIGEST = new Uint8Array(20);
/** The outer hash's block: the inner digest (bytes 0-19, written per tag), 0x80, zeros, 672 bits. */
const OUTER = new Uint8Array(64);
OUTER[20] = 0x80;
OUTER[62] = (672 >>> 8) & 0xff;
OUTER[63] = 672 & 0xff;

const INIT = Int32Array.of(0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0);

/** Five words of `from`, from `at`, into `to[0..5)`. */
const copy5 = (to: Int32Array, from: Int32Array, at: number): void => {
  to[0] = from[at]!;
  to[1] = from[at + 1]!;
  to[2] = from[at + 2]!;
  to[3] = from[at + 3]!;
  to[4] = from[at + 4]!;
};

/** The five words of `h` as 20 big-endian bytes at the start of `to` (Uint8Array stores keep the low byte). */
const bytes5 = (to: Uint8Array, h: Int32Array): void => {
  for (let i = 0; i < 5; i++) {
    const w = h[i]!;
    to[i * 4] = w >>> 24;
    to[i * 4 + 1] = w >>> 16;
    to[i * 4 + 2] = w >>> 8;
    to[i * 4 + 3] = w;
  }
};
