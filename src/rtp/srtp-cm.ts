import { type Cipher, createCipheriv } from 'node:crypto';
import { HmacSha1 } from './hmac-sha1.ts';
import { deriveSessionKey, LABEL, readU32, type SrtpCipher, type SrtpMasterKey } from './srtp-cipher.ts';

/**
 * Counter blocks, one buffer for every session (each batch is built and encrypted at once, synchronously):
 * it stays in cache where 500 calls' own buffers would not. Grown for a larger batch.
 */
let scratch = Buffer.alloc(16 * 11 * 16);

/**
 * AES in counter mode as SRTP uses it (RFC 3711 4.1.1), on one session key and salt. The keystream of a
 * packet depends only on its SSRC and index, so it is made `batch` packets ahead in one AES call: a sender
 * or an in-order receiver then costs one native call per `batch` packets instead of one per packet (the
 * call, not AES, is most of the time). Memory: 2 x batch x the packet's blocks x 16 bytes.
 */
export class AesCm {
  /** AES-128 in ECB over counter blocks we build: one cipher object per session, not one per packet. */
  readonly #ecb: Cipher;
  readonly #salt: Buffer;
  readonly #batch: number;
  /** The keystream of packets `#base` .. `#base + #batch - 1` of `#ssrc`, `#blocks` blocks each. */
  #stream: Buffer = Buffer.alloc(0);
  readonly #iv = Buffer.alloc(16);
  #ssrc = -1;
  #base = -1;
  #blocks = 0;

  constructor(sessionKey: Uint8Array, sessionSalt: Uint8Array, batch = 1) {
    this.#ecb = createCipheriv('aes-128-ecb', sessionKey, null);
    this.#ecb.setAutoPadding(false);
    this.#salt = Buffer.from(sessionSalt);
    this.#batch = batch;
  }

  /**
   * XORs `data[from..]` in place with the keystream of packet index ROC * 2^16 + SEQ. SRTCP passes its
   * 31-bit index as `roc` / `seq` = (index >> 16, index & 0xffff).
   */
  crypt(data: Buffer, from: number, ssrc: number, roc: number, seq: number, end = data.length): void {
    const length = end - from;
    if (length <= 0) return;
    const blocks = Math.ceil(length / 16);
    const index = roc * 0x10000 + seq;
    let stream: Buffer;
    let at = 0;
    const cached = ssrc === this.#ssrc && blocks <= this.#blocks;
    if (cached && index >= this.#base && index < this.#base + this.#batch) {
      stream = this.#stream;
      at = (index - this.#base) * this.#blocks * 16;
    } else if (cached && index < this.#base) {
      stream = this.#keystream(ssrc, index, 1, blocks); // a late packet: the batch ahead stays
    } else {
      stream = this.#keystream(ssrc, index, this.#batch, blocks);
      this.#stream = stream;
      this.#ssrc = ssrc;
      this.#base = index;
      this.#blocks = blocks;
    }
    // a byte at a time: two Int32Array views a packet to XOR by words cost more than they saved (measured
    // in the relay at 200 calls: the XOR's self time 22 ms/s with views, inlined and out of the profile's
    // top without; in a hot loop 0.17 against 0.13 us a packet)
    for (let i = 0; i < length; i++) data[from + i] = data[from + i]! ^ stream[at + i]!;
  }

  /**
   * The keystream of `count` packets from `index`, `blocks` blocks each: packet i's blocks are AES of
   * IV, IV + 1, ... with IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), the 16-bit block counter in
   * the IV's low bytes (4.1.1).
   */
  #keystream(ssrc: number, index: number, count: number, blocks: number): Buffer {
    const size = count * blocks * 16;
    if (scratch.length < size) scratch = Buffer.alloc(size);
    const counters = scratch.subarray(0, size);
    const s = this.#salt;
    // what every block shares, laid out in one native call: the salt with the SSRC (bytes 4-7) in it
    const iv = this.#iv;
    s.copy(iv, 0);
    iv.writeUInt32BE((s.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    counters.fill(iv);
    // then each block's index (bytes 8-13) and counter (14-15)
    for (let p = 0; p < count; p++) {
      const i = index + p;
      const roc = Math.floor(i / 0x10000) >>> 0;
      const b8 = s[8]! ^ (roc >>> 24);
      const b9 = s[9]! ^ ((roc >>> 16) & 0xff);
      const b10 = s[10]! ^ ((roc >>> 8) & 0xff);
      const b11 = s[11]! ^ (roc & 0xff);
      const b12 = s[12]! ^ ((i >>> 8) & 0xff);
      const b13 = s[13]! ^ (i & 0xff);
      for (let b = 0; b < blocks; b++) {
        const o = (p * blocks + b) * 16;
        counters[o + 8] = b8;
        counters[o + 9] = b9;
        counters[o + 10] = b10;
        counters[o + 11] = b11;
        counters[o + 12] = b12;
        counters[o + 13] = b13;
        counters[o + 14] = b >> 8;
        counters[o + 15] = b & 0xff;
      }
    }
    return this.#ecb.update(counters);
  }
}

/** The ROC as the 4 bytes an SRTP tag covers after the packet: scratch every session shares, used at once. */
const ROC = Buffer.alloc(4);
const rocBytes = (roc: number): Buffer => {
  ROC.writeUInt32BE(roc >>> 0);
  return ROC;
};

/**
 * AES_CM_128_HMAC_SHA1_80 and _32 (RFC 4568 6.2): AES-CM encryption, HMAC-SHA1 authentication with an 80-
 * or 32-bit SRTP tag; SRTCP's tag is 80 bits for both. Session keys per RFC 3711 4.3 (encryption,
 * authentication, salt), for SRTP and for SRTCP; held directly, as few objects as possible to reach per
 * packet (hundreds of calls' state do not stay in cache).
 */
export class CmHmacCipher implements SrtpCipher {
  readonly rtpTrailer: number;
  readonly rtcpMinimum = 8 + 4 + 10;
  readonly #rtpCm: AesCm;
  readonly #rtpMac: HmacSha1;
  readonly #rtcpCm: AesCm;
  readonly #rtcpMac: HmacSha1;

  constructor(master: SrtpMasterKey, tagLength: 4 | 10) {
    this.rtpTrailer = tagLength;
    const key = (label: number, length: number) => deriveSessionKey(master, label, length);
    // RTP: the keystream 16 packets ahead (320 ms of 20 ms audio); RTCP comes every few seconds: none
    this.#rtpCm = new AesCm(key(LABEL.rtpEncryption, 16), key(LABEL.rtpSalt, 14), 16);
    this.#rtpMac = new HmacSha1(key(LABEL.rtpAuth, 20));
    this.#rtcpCm = new AesCm(key(LABEL.rtcpEncryption, 16), key(LABEL.rtcpSalt, 14), 1);
    this.#rtcpMac = new HmacSha1(key(LABEL.rtcpAuth, 20));
  }

  /** RFC 3711 3.3: payload encrypted, then the tag (4.2.1: HMAC-SHA1 over header, payload and ROC) appended. */
  sealRtp(buf: Buffer, length: number, header: number, ssrc: number, roc: number, seq: number): number {
    this.#rtpCm.crypt(buf, header, ssrc, roc, seq, length);
    const tag = this.#rtpMac.mac(buf, length, rocBytes(roc));
    for (let i = 0; i < this.rtpTrailer; i++) buf[length + i] = tag[i]!;
    return length + this.rtpTrailer;
  }

  /** The tag verified first (3.3: authentication before decryption), then the payload decrypted. */
  openRtp(buf: Buffer, header: number, ssrc: number, roc: number, seq: number): number {
    const end = buf.length - this.rtpTrailer;
    if (!tagMatches(this.#rtpMac.mac(buf, end, rocBytes(roc)), buf, end, this.rtpTrailer)) return -1;
    this.#rtpCm.crypt(buf, header, ssrc, roc, seq, end);
    return end;
  }

  /** 3.4: everything after the first 8 bytes encrypted, then E flag and index, then the 80-bit tag over all. */
  sealRtcp(packet: Uint8Array, ssrc: number, index: number): Buffer {
    const out = Buffer.allocUnsafe(packet.length + 14);
    out.set(packet);
    const body = out.subarray(0, packet.length);
    this.#rtcpCm.crypt(body, 8, ssrc, index >>> 16, index & 0xffff);
    out.writeUInt32BE((0x80000000 | index) >>> 0, packet.length);
    out.set(this.#rtcpMac.mac(out, packet.length + 4).subarray(0, 10), packet.length + 4);
    return out;
  }

  rtcpWord(packet: Uint8Array): number {
    return readU32(packet, packet.length - 14);
  }

  openRtcp(packet: Uint8Array, ssrc: number, word: number): Buffer | undefined {
    const end = packet.length - 14;
    if (!tagMatches(this.#rtcpMac.mac(packet, end + 4), packet, end + 4, 10)) return undefined;
    const body = Buffer.from(packet.subarray(0, end));
    const index = word & 0x7fffffff;
    if (word & 0x80000000) this.#rtcpCm.crypt(body, 8, ssrc, index >>> 16, index & 0xffff);
    return body;
  }
}

/** The first `n` bytes of the tag we computed equal the `n` at `packet[at..]`, compared in constant time. */
function tagMatches(expected: Uint8Array, packet: Uint8Array, at: number, n: number): boolean {
  let d = 0;
  for (let i = 0; i < n; i++) d |= expected[i]! ^ packet[at + i]!;
  return d === 0;
}
