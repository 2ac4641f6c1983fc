import { type Cipher, createCipheriv, createHmac } from 'node:crypto';

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
const REPLAY_WINDOW = 64n;

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
   */
  crypt(data: Buffer, from: number, ssrc: number, index: bigint): void {
    const length = data.length - from;
    if (length <= 0) return;
    const blocks = Math.ceil(length / 16);
    const counters = Buffer.alloc(blocks * 16);
    const iv = Buffer.alloc(16);
    this.#salt.copy(iv, 0);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    const hi = Number((index >> 32n) & 0xffffn);
    const lo = Number(index & 0xffffffffn);
    iv.writeUInt16BE(iv.readUInt16BE(8) ^ hi, 8);
    iv.writeUInt32BE((iv.readUInt32BE(10) ^ lo) >>> 0, 10);
    for (let b = 0; b < blocks; b++) {
      iv.copy(counters, b * 16);
      counters.writeUInt16BE(b, b * 16 + 14);
    }
    const stream = this.#ecb.update(counters);
    for (let i = 0; i < length; i++) data[from + i] = data[from + i]! ^ stream[i]!;
  }
}

/** One direction's session keys for SRTP or SRTCP (RFC 3711 4.3: encryption, authentication, salt). */
class Keys {
  readonly cm: AesCm;
  readonly auth: Buffer;

  constructor(master: SrtpMasterKey, labels: { enc: number; auth: number; salt: number }) {
    this.cm = new AesCm(deriveSessionKey(master, labels.enc, 16), deriveSessionKey(master, labels.salt, 14));
    this.auth = deriveSessionKey(master, labels.auth, 20);
  }

  crypt(data: Buffer, from: number, ssrc: number, index: bigint): void {
    this.cm.crypt(data, from, ssrc, index);
  }

  /** HMAC-SHA1 (RFC 3711 4.2.1) over the parts, truncated. */
  tag(parts: readonly Uint8Array[], length: number): Buffer {
    const h = createHmac('sha1', this.auth);
    for (const p of parts) h.update(p);
    return h.digest().subarray(0, length);
  }
}

/** Per-SSRC state of a receiver: the highest index authenticated, and which of the 64 before it came. */
interface Stream {
  roc: number;
  /** Highest sequence number authenticated (s_l of RFC 3711 3.3.1). */
  seq: number;
  highest: bigint;
  window: bigint;
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

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
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
  readonly #rtcpIn = new Map<number, { highest: bigint; window: bigint }>();
  #rtcpIndex = 0;

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
    const out = Buffer.alloc(packet.length + this.#tagLength);
    out.set(packet);
    const body = out.subarray(0, packet.length);
    this.#rtp.crypt(body, header, ssrc, (BigInt(s.roc) << 16n) | BigInt(seq));
    this.#rtp.tag([body, u32(s.roc)], this.#tagLength).copy(out, packet.length);
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
    const index = (BigInt(roc) << 16n) | BigInt(seq);
    if (s) {
      const seen = replayed(s, index);
      if (seen) return seen;
    }
    const body = Buffer.from(packet.subarray(0, end));
    const expected = this.#rtp.tag([body, u32(roc)], this.#tagLength);
    if (!timingSafeEqual(expected, packet.subarray(end))) return 'authentication';
    this.#rtp.crypt(body, header, ssrc, index);
    if (!s) this.#in.set(ssrc, { roc, seq, highest: index, window: 1n });
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
    const body = Buffer.from(packet);
    this.#rtcp.crypt(body, 8, readU32(packet, 4), BigInt(index));
    const eIndex = u32((0x80000000 | index) >>> 0);
    return Buffer.concat([body, eIndex, this.#rtcp.tag([body, eIndex], 10)]);
  }

  unprotectRtcp(packet: Uint8Array): Buffer | SrtpRejection {
    if (packet.length < 8 + 4 + 10) return 'short';
    const end = packet.length - 14;
    const body = Buffer.from(packet.subarray(0, end));
    const eIndex = packet.subarray(end, end + 4);
    const expected = this.#rtcp.tag([body, eIndex], 10);
    if (!timingSafeEqual(expected, packet.subarray(end + 4))) return 'authentication';
    const word = readU32(eIndex, 0);
    const index = BigInt(word & 0x7fffffff);
    const ssrc = readU32(packet, 4);
    let r = this.#rtcpIn.get(ssrc);
    if (r) {
      const seen = replayed(r, index);
      if (seen) return seen;
    } else {
      r = { highest: index, window: 0n };
      this.#rtcpIn.set(ssrc, r);
    }
    markSeen(r, index);
    if (word & 0x80000000) this.#rtcp.crypt(body, 8, ssrc, index);
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
function replayed(w: { highest: bigint; window: bigint }, index: bigint): SrtpRejection | undefined {
  if (index > w.highest) return undefined;
  const behind = w.highest - index;
  if (behind >= REPLAY_WINDOW) return 'too old';
  return (w.window >> behind) & 1n ? 'replay' : undefined;
}

function markSeen(w: { highest: bigint; window: bigint }, index: bigint): void {
  if (index > w.highest) {
    const shift = index - w.highest;
    w.window = shift >= REPLAY_WINDOW ? 1n : ((w.window << shift) | 1n) & ((1n << REPLAY_WINDOW) - 1n);
    w.highest = index;
  } else w.window |= 1n << (w.highest - index);
}

/** After authentication: the window, and s_l/ROC move forward only with the highest index (3.3.1). */
function remember(s: Stream, index: bigint, roc: number, seq: number): void {
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
