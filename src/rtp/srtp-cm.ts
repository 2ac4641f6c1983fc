import { type Cipher, createCipheriv } from 'node:crypto';
import { HmacSha1 } from './hmac-sha1.ts';
import { deriveSessionKey, LABEL, readU32, type SrtpCipher, type SrtpMasterKey } from './srtp-cipher.ts';

/** AES in counter mode as SRTP uses it (RFC 3711 4.1.1), on one session key and salt. */
export class AesCm {
  /** AES-128 in ECB over counter blocks we build: one cipher object per session, not one per packet. */
  readonly #ecb: Cipher;
  readonly #salt: Buffer;
  /** Counter blocks and the IV, reused packet after packet (grown for a larger packet). */
  #counters = Buffer.alloc(1504);
  readonly #iv = Buffer.alloc(16);

  constructor(sessionKey: Uint8Array, sessionSalt: Uint8Array) {
    this.#ecb = createCipheriv('aes-128-ecb', sessionKey, null);
    this.#ecb.setAutoPadding(false);
    this.#salt = Buffer.from(sessionSalt);
  }

  /**
   * XORs `data[from..]` in place with the keystream: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR
   * (index * 2^16), then blocks IV, IV + 1, ... (the 16-bit block counter in the IV's low bytes).
   * SRTCP passes its 31-bit index as `roc` / `seq` = (index >> 16, index & 0xffff).
   */
  crypt(data: Buffer, from: number, ssrc: number, roc: number, seq: number): void {
    const length = data.length - from;
    if (length <= 0) return;
    const blocks = Math.ceil(length / 16);
    if (this.#counters.length < blocks * 16) this.#counters = Buffer.alloc(blocks * 16);
    const counters = this.#counters.subarray(0, blocks * 16);
    const iv = this.#iv;
    this.#salt.copy(iv, 0);
    iv[14] = 0;
    iv[15] = 0;
    // the index i = ROC * 2^16 + SEQ is 48 bits: ROC in bytes 8-11, SEQ in 12-13 (after * 2^16)
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
    counters.fill(iv); // the IV repeated, one native call; then each block's 16-bit counter
    for (let b = 1; b < blocks; b++) {
      counters[b * 16 + 14] = b >> 8;
      counters[b * 16 + 15] = b & 0xff;
    }
    const stream = this.#ecb.update(counters);
    for (let i = 0; i < length; i++) data[from + i] = data[from + i]! ^ stream[i]!;
  }
}

/** One direction's session keys for SRTP or SRTCP (RFC 3711 4.3: encryption, authentication, salt). */
class Keys {
  readonly cm: AesCm;
  readonly #hmac: HmacSha1;

  constructor(master: SrtpMasterKey, labels: { enc: number; auth: number; salt: number }) {
    this.cm = new AesCm(deriveSessionKey(master, labels.enc, 16), deriveSessionKey(master, labels.salt, 14));
    this.#hmac = new HmacSha1(deriveSessionKey(master, labels.auth, 20));
  }

  /**
   * HMAC-SHA1 (RFC 3711 4.2.1) over the packet (and, for SRTP, the ROC), truncated: a scratch buffer, to
   * be copied or compared at once.
   */
  tag(data: Uint8Array, roc: Uint8Array | undefined, length: number): Uint8Array {
    return this.#hmac.mac(data, roc).subarray(0, length);
  }
}

/**
 * AES_CM_128_HMAC_SHA1_80 and _32 (RFC 4568 6.2): AES-CM encryption, HMAC-SHA1 authentication with an 80-
 * or 32-bit SRTP tag; SRTCP's tag is 80 bits for both.
 */
export class CmHmacCipher implements SrtpCipher {
  readonly rtpTrailer: number;
  readonly rtcpMinimum = 8 + 4 + 10;
  readonly #rtp: Keys;
  readonly #rtcp: Keys;
  readonly #rocBytes = Buffer.alloc(4);

  constructor(master: SrtpMasterKey, tagLength: 4 | 10) {
    this.rtpTrailer = tagLength;
    this.#rtp = new Keys(master, { enc: LABEL.rtpEncryption, auth: LABEL.rtpAuth, salt: LABEL.rtpSalt });
    this.#rtcp = new Keys(master, { enc: LABEL.rtcpEncryption, auth: LABEL.rtcpAuth, salt: LABEL.rtcpSalt });
  }

  /** The ROC as the 4 bytes the tag covers (a scratch buffer: used at once). */
  #roc(roc: number): Buffer {
    this.#rocBytes.writeUInt32BE(roc >>> 0);
    return this.#rocBytes;
  }

  /** RFC 3711 3.3: payload encrypted, then the tag over header, payload and ROC appended. */
  sealRtp(packet: Uint8Array, header: number, ssrc: number, roc: number, seq: number): Buffer {
    const out = Buffer.allocUnsafe(packet.length + this.rtpTrailer);
    out.set(packet);
    const body = out.subarray(0, packet.length);
    this.#rtp.cm.crypt(body, header, ssrc, roc, seq);
    out.set(this.#rtp.tag(body, this.#roc(roc), this.rtpTrailer), packet.length);
    return out;
  }

  /** The tag verified first (3.3: authentication before decryption), then the payload decrypted. */
  openRtp(packet: Uint8Array, header: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const end = packet.length - this.rtpTrailer;
    const body = Buffer.allocUnsafe(end);
    body.set(packet.subarray(0, end));
    const expected = this.#rtp.tag(body, this.#roc(roc), this.rtpTrailer);
    if (!timingSafeEqual(expected, packet.subarray(end))) return undefined;
    this.#rtp.cm.crypt(body, header, ssrc, roc, seq);
    return body;
  }

  /** 3.4: everything after the first 8 bytes encrypted, then E flag and index, then the 80-bit tag over all. */
  sealRtcp(packet: Uint8Array, ssrc: number, index: number): Buffer {
    const out = Buffer.allocUnsafe(packet.length + 14);
    out.set(packet);
    const body = out.subarray(0, packet.length);
    this.#rtcp.cm.crypt(body, 8, ssrc, index >>> 16, index & 0xffff);
    out.writeUInt32BE((0x80000000 | index) >>> 0, packet.length);
    out.set(this.#rtcp.tag(out.subarray(0, packet.length + 4), undefined, 10), packet.length + 4);
    return out;
  }

  rtcpWord(packet: Uint8Array): number {
    return readU32(packet, packet.length - 14);
  }

  openRtcp(packet: Uint8Array, ssrc: number, word: number): Buffer | undefined {
    const end = packet.length - 14;
    const expected = this.#rtcp.tag(packet.subarray(0, end + 4), undefined, 10);
    if (!timingSafeEqual(expected, packet.subarray(end + 4))) return undefined;
    const body = Buffer.from(packet.subarray(0, end));
    const index = word & 0x7fffffff;
    if (word & 0x80000000) this.#rtcp.cm.crypt(body, 8, ssrc, index >>> 16, index & 0xffff);
    return body;
  }
}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
