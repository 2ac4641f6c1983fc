import { type Cipher, createCipheriv } from 'node:crypto';
import { HmacSha1 } from './hmac-sha1.ts';

/**
 * SRTP and SRTCP (RFC 3711) with the SDES suites of RFC 4568: AES-CM-128 encryption and HMAC-SHA1
 * authentication, an 80- or 32-bit SRTP tag (SRTCP's is 80 bits for both, RFC 4568 6.2). One context per
 * direction and master key; it follows every SSRC it sees (rollover counter, replay window). Keys are
 * never logged or returned.
 */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';

export const SRTP_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

/** Master key (16 bytes) and master salt (14 bytes), as an SDES inline key carries them (30 bytes). */
export interface SrtpMasterKey {
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
}

const LABEL = {
  rtpEncryption: 0,
  rtpAuth: 1,
  rtpSalt: 2,
  rtcpEncryption: 3,
  rtcpAuth: 4,
  rtcpSalt: 5,
} as const;

/** RFC 3711 3.3.2: the replay list is at least 64 packets wide. */
const REPLAY_WINDOW = 64;

/**
 * RFC 3711 4.3.1 and 4.3.3, key derivation rate 0: "key_id = <label> || r" with r = 0, "x = key_id XOR
 * master_salt", and the session key is the AES-CM keystream of the master key with IV = x * 2^16.
 */
export function deriveSessionKey(master: SrtpMasterKey, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  Buffer.from(master.salt).copy(iv, 0, 0, 14);
  iv[7] = iv[7]! ^ label; // the label sits 7 bytes from the right of the 14-byte salt (r is 48 bits)
  const cipher = createCipheriv('aes-128-ctr', master.key, iv);
  return cipher.update(Buffer.alloc(length));
}

/** AES in counter mode as SRTP uses it (RFC 3711 4.1.1), on one session key and salt. */
export class AesCm {
  /** AES-128 in ECB over counter blocks we build: one cipher object per session, not one per packet. */
  readonly #ecb: Cipher;
  readonly #salt: Buffer;

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
  /** Counter blocks and the IV, reused packet after packet (grown for a larger packet). */
  #counters = Buffer.alloc(1504);
  readonly #iv = Buffer.alloc(16);

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

/** Per-SSRC state of a receiver: the highest index authenticated, and which of the 64 before it came. */
/** A replay window: the highest index accepted and which of the 64 before it came (bit n: n behind). */
interface Window {
  highest: number;
  low: number;
  high: number;
}

interface Stream extends Window {
  roc: number;
  /** Highest sequence number authenticated (s_l of RFC 3711 3.3.1). */
  seq: number;
}

const rtpHeaderLength = (p: Uint8Array): number => {
  const cc = p[0]! & 0x0f;
  let n = 12 + 4 * cc;
  if (p[0]! & 0x10) {
    if (p.length < n + 4) return -1;
    n += 4 + 4 * ((p[n + 2]! << 8) | p[n + 3]!);
  }
  return n <= p.length ? n : -1;
};

/** Why a packet was not accepted. */
export type SrtpRejection = 'short' | 'authentication' | 'replay' | 'too old';

export class SrtpContext {
  readonly suite: SrtpSuite;
  readonly #rtp: Keys;
  readonly #rtcp: Keys;
  readonly #tagLength: number;
  /** Sender side: per SSRC the rollover counter and the last sequence number sent. */
  readonly #out = new Map<number, { roc: number; seq: number }>();
  readonly #in = new Map<number, Stream>();
  readonly #rtcpIn = new Map<number, Window>();
  #rtcpIndex = 0;
  readonly #rocBytes = Buffer.alloc(4);

  /** The ROC as the 4 bytes the tag covers (a scratch buffer: used at once). */
  #roc(roc: number): Buffer {
    this.#rocBytes.writeUInt32BE(roc >>> 0);
    return this.#rocBytes;
  }

  constructor(suite: SrtpSuite, master: SrtpMasterKey) {
    if (master.key.length !== 16 || master.salt.length !== 14)
      throw new Error('SRTP: a 16-byte master key and a 14-byte master salt are needed');
    this.suite = suite;
    this.#rtp = new Keys(master, { enc: LABEL.rtpEncryption, auth: LABEL.rtpAuth, salt: LABEL.rtpSalt });
    this.#rtcp = new Keys(master, { enc: LABEL.rtcpEncryption, auth: LABEL.rtcpAuth, salt: LABEL.rtcpSalt });
    this.#tagLength = suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10;
  }

  /** Streams being received (bounded by the caller: one call has one or two). */
  get sources(): number {
    return this.#in.size;
  }

  /** RTP -> SRTP (RFC 3711 3.3): payload encrypted, tag over header, payload and ROC appended. */
  protectRtp(packet: Uint8Array): Buffer {
    const header = rtpHeaderLength(packet);
    if (header < 0) throw new Error('SRTP: not an RTP packet');
    const ssrc = readU32(packet, 8);
    const seq = (packet[2]! << 8) | packet[3]!;
    let s = this.#out.get(ssrc);
    if (!s) {
      s = { roc: 0, seq };
      this.#out.set(ssrc, s);
    } else {
      // the sequence number wrapped: the rollover counter counts it (3.3.1)
      if (seq < s.seq && s.seq - seq > 0x8000) s.roc = (s.roc + 1) >>> 0;
      s.seq = seq;
    }
    const out = Buffer.allocUnsafe(packet.length + this.#tagLength);
    out.set(packet);
    const body = out.subarray(0, packet.length);
    this.#rtp.cm.crypt(body, header, ssrc, s.roc, seq);
    out.set(this.#rtp.tag(body, this.#roc(s.roc), this.#tagLength), packet.length);
    return out;
  }

  /** SRTP -> RTP: the index estimated (3.3.1), replay checked (3.3.2), the tag verified, then decrypted. */
  unprotectRtp(packet: Uint8Array): Buffer | SrtpRejection {
    const end = packet.length - this.#tagLength;
    const header = end >= 12 ? rtpHeaderLength(packet.subarray(0, end)) : -1;
    if (header < 0) return 'short';
    const ssrc = readU32(packet, 8);
    const seq = (packet[2]! << 8) | packet[3]!;
    const s = this.#in.get(ssrc);
    const roc = s ? estimateRoc(s, seq) : 0;
    const index = roc * 0x10000 + seq;
    if (s) {
      const seen = replayed(s, index);
      if (seen) return seen;
    }
    const body = Buffer.allocUnsafe(end);
    body.set(packet.subarray(0, end));
    const expected = this.#rtp.tag(body, this.#roc(roc), this.#tagLength);
    if (!timingSafeEqual(expected, packet.subarray(end))) return 'authentication';
    this.#rtp.cm.crypt(body, header, ssrc, roc, seq);
    if (!s) this.#in.set(ssrc, { roc, seq, highest: index, low: 1, high: 0 });
    else remember(s, index, roc, seq);
    return body;
  }

  /**
   * RTCP -> SRTCP (3.4): everything after the first 8 bytes encrypted, then E flag and the 31-bit SRTCP
   * index, then an 80-bit tag over all of it.
   */
  protectRtcp(packet: Uint8Array): Buffer {
    if (packet.length < 8) throw new Error('SRTCP: not an RTCP packet');
    const index = this.#rtcpIndex;
    this.#rtcpIndex = (this.#rtcpIndex + 1) & 0x7fffffff;
    const out = Buffer.allocUnsafe(packet.length + 14);
    out.set(packet);
    const body = out.subarray(0, packet.length);
    this.#rtcp.cm.crypt(body, 8, readU32(packet, 4), index >>> 16, index & 0xffff);
    out.writeUInt32BE((0x80000000 | index) >>> 0, packet.length);
    out.set(this.#rtcp.tag(out.subarray(0, packet.length + 4), undefined, 10), packet.length + 4);
    return out;
  }

  unprotectRtcp(packet: Uint8Array): Buffer | SrtpRejection {
    if (packet.length < 8 + 4 + 10) return 'short';
    const end = packet.length - 14;
    const body = Buffer.from(packet.subarray(0, end));
    const eIndex = packet.subarray(end, end + 4);
    const expected = this.#rtcp.tag(packet.subarray(0, end + 4), undefined, 10);
    if (!timingSafeEqual(expected, packet.subarray(end + 4))) return 'authentication';
    const word = readU32(eIndex, 0);
    const index = word & 0x7fffffff;
    const ssrc = readU32(packet, 4);
    let r = this.#rtcpIn.get(ssrc);
    if (r) {
      const seen = replayed(r, index);
      if (seen) return seen;
    } else {
      r = { highest: index, low: 0, high: 0 };
      this.#rtcpIn.set(ssrc, r);
    }
    markSeen(r, index);
    if (word & 0x80000000) this.#rtcp.cm.crypt(body, 8, ssrc, index >>> 16, index & 0xffff);
    return body;
  }
}

const readU32 = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** RFC 3711 3.3.1 (Appendix A): which rollover count a received sequence number most likely belongs to. */
function estimateRoc(s: Stream, seq: number): number {
  if (s.seq < 0x8000) return seq - s.seq > 0x8000 ? s.roc - 1 : s.roc;
  return s.seq - 0x8000 > seq ? s.roc + 1 : s.roc;
}

/** RFC 3711 3.3.2: an index already received, or too far behind the highest, is dropped. */
function replayed(w: Window, index: number): SrtpRejection | undefined {
  if (index > w.highest) return undefined;
  const behind = w.highest - index;
  if (behind >= REPLAY_WINDOW) return 'too old';
  return seenAt(w, behind) ? 'replay' : undefined;
}

/** Bit `behind` of the 64-bit window (two 32-bit words: 0-31, 32-63 packets behind the highest). */
const seenAt = (w: Window, behind: number): boolean =>
  behind < 32 ? ((w.low >>> behind) & 1) === 1 : ((w.high >>> (behind - 32)) & 1) === 1;

function markSeen(w: Window, index: number): void {
  if (index > w.highest) {
    const shift = index - w.highest;
    if (shift >= REPLAY_WINDOW) {
      w.low = 1;
      w.high = 0;
    } else if (shift >= 32) {
      w.high = shift === 32 ? w.low : (w.low << (shift - 32)) >>> 0;
      w.low = 1;
    } else {
      w.high = ((w.high << shift) | (w.low >>> (32 - shift))) >>> 0;
      w.low = ((w.low << shift) | 1) >>> 0;
    }
    w.highest = index;
  } else {
    const behind = w.highest - index;
    if (behind < 32) w.low = (w.low | (1 << behind)) >>> 0;
    else w.high = (w.high | (1 << (behind - 32))) >>> 0;
  }
}

/** After authentication: the window, and s_l/ROC move forward only with the highest index (3.3.1). */
function remember(s: Stream, index: number, roc: number, seq: number): void {
  if (index > s.highest) {
    s.roc = roc;
    s.seq = seq;
  }
  markSeen(s, index);
}

function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
