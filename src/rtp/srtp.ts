import { markSeen, type ReplayVerdict, type ReplayWindow, replayed } from './replay-window.ts';
import { readU32, type SrtpCipher, type SrtpMasterKey } from './srtp-cipher.ts';
import { CmHmacCipher } from './srtp-cm.ts';
import { GcmCipher } from './srtp-gcm.ts';

export type { SrtpMasterKey } from './srtp-cipher.ts';

/**
 * SRTP and SRTCP (RFC 3711) with the SDES suites of RFC 4568 (AES-CM-128 with an 80- or 32-bit HMAC-SHA1
 * tag) and RFC 7714 (AEAD_AES_128_GCM). One context per direction and master key; it follows every SSRC it
 * sees (rollover counter, replay window). Keys are never logged or returned.
 */
export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AEAD_AES_128_GCM';

/** Every suite we do, in our default order of preference. */
export const SRTP_SUITES: readonly SrtpSuite[] = [
  'AES_CM_128_HMAC_SHA1_80',
  'AES_CM_128_HMAC_SHA1_32',
  'AEAD_AES_128_GCM',
];

/**
 * The SDES inline key's length: master key || master salt. 16 + 14 for AES-CM (RFC 4568 6.2), 16 + 12 for
 * AEAD_AES_128_GCM (RFC 7714 14.2: a 96-bit master salt).
 */
export const masterKeyLength = (suite: SrtpSuite): number => (suite === 'AEAD_AES_128_GCM' ? 28 : 30);

/** SDES key material as SRTP's master key and salt. */
export const masterKeyOf = (suite: SrtpSuite, material: Uint8Array): SrtpMasterKey => ({
  key: material.subarray(0, 16),
  salt: material.subarray(16, masterKeyLength(suite)),
});

/** A stream we send: its rollover counter and the last sequence number sent. */
interface Sent {
  readonly ssrc: number;
  roc: number;
  seq: number;
}

interface Stream extends ReplayWindow {
  readonly ssrc: number;
  roc: number;
  /** Highest sequence number authenticated (s_l of RFC 3711 3.3.1). */
  seq: number;
}

/** The RTP header's length (CSRCs and extension included) in `p[0..length)`, or -1. */
const rtpHeaderLength = (p: Uint8Array, length: number): number => {
  const cc = p[0]! & 0x0f;
  let n = 12 + 4 * cc;
  if (p[0]! & 0x10) {
    if (length < n + 4) return -1;
    n += 4 + 4 * ((p[n + 2]! << 8) | p[n + 3]!);
  }
  return n <= length ? n : -1;
};

/** Why a packet was not accepted. */
export type SrtpRejection = 'short' | 'authentication' | ReplayVerdict;

/** What a media session needs of one direction's SRTP (SrtpContext; a benchmark plugs in another's). */
export interface SrtpEndpoint {
  /** Bytes SRTP adds to an RTP packet (room a buffer needs after it for `protectRtpInPlace`). */
  readonly overhead: number;
  protectRtp(packet: Uint8Array): Buffer;
  protectRtpInPlace(buf: Buffer, length: number): number;
  unprotectRtpInPlace(buf: Buffer): Buffer | SrtpRejection;
  protectRtcp(packet: Uint8Array): Buffer;
  unprotectRtcp(packet: Uint8Array): Buffer | SrtpRejection;
}

/** Makes one direction's SRTP for a suite and master key. */
export type SrtpEngine = (suite: SrtpSuite, master: SrtpMasterKey) => SrtpEndpoint;

/** Ours (the default everywhere). */
export const ourSrtp: SrtpEngine = (suite, master) => new SrtpContext(suite, master);

const cipherOf = (suite: SrtpSuite, master: SrtpMasterKey): SrtpCipher => {
  if (suite === 'AEAD_AES_128_GCM') return GcmCipher.fromMaster(master);
  return new CmHmacCipher(master, suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10);
};

export class SrtpContext implements SrtpEndpoint {
  readonly suite: SrtpSuite;
  readonly #cipher: SrtpCipher;
  /** Sender side: per SSRC the rollover counter and the last sequence number sent. */
  readonly #out = new Map<number, Sent>();
  #lastOut: Sent | undefined;
  readonly #in = new Map<number, Stream>();
  #lastIn: Stream | undefined;
  readonly #rtcpIn = new Map<number, ReplayWindow>();
  #rtcpIndex = 0;

  constructor(suite: SrtpSuite, master: SrtpMasterKey) {
    if (master.key.length !== 16 || master.salt.length !== masterKeyLength(suite) - 16)
      throw new Error(
        `SRTP: ${suite} needs a 16-byte master key and a ${masterKeyLength(suite) - 16}-byte salt`,
      );
    this.suite = suite;
    this.#cipher = cipherOf(suite, master);
  }

  /** Streams being received (bounded by the caller: one call has one or two). */
  get sources(): number {
    return this.#in.size;
  }

  /** Bytes SRTP adds to an RTP packet: a buffer for `protectRtpInPlace` needs this much room after it. */
  get overhead(): number {
    return this.#cipher.rtpTrailer;
  }

  /** RTP -> SRTP (RFC 3711 3.3) in a new buffer. */
  protectRtp(packet: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(packet.length + this.#cipher.rtpTrailer);
    out.set(packet);
    this.protectRtpInPlace(out, packet.length);
    return out;
  }

  /**
   * RTP -> SRTP in place: the RTP packet is `buf[0..length)`, the tag goes after it (`overhead` bytes of
   * room needed); returns the SRTP packet's length. The sender's rollover counter counts each wrap.
   */
  protectRtpInPlace(buf: Buffer, length: number): number {
    const header = length >= 12 ? rtpHeaderLength(buf, length) : -1;
    if (header < 0) throw new Error('SRTP: not an RTP packet');
    if (buf.length < length + this.#cipher.rtpTrailer)
      throw new Error('SRTP: no room after the packet for its tag');
    const ssrc = readU32(buf, 8);
    const seq = (buf[2]! << 8) | buf[3]!;
    // one SSRC a call, nearly always: the last one is at hand without a map lookup
    let s = this.#lastOut?.ssrc === ssrc ? this.#lastOut : this.#out.get(ssrc);
    if (!s) {
      s = { ssrc, roc: 0, seq };
      this.#out.set(ssrc, s);
      this.#lastOut = s;
    } else {
      this.#lastOut = s;
      // the sequence number wrapped: the rollover counter counts it (3.3.1)
      if (seq < s.seq && s.seq - seq > 0x8000) s.roc = (s.roc + 1) >>> 0;
      s.seq = seq;
    }
    return this.#cipher.sealRtp(buf, length, header, ssrc, s.roc, seq);
  }

  /** SRTP -> RTP in a new buffer (the packet is left as it is). */
  unprotectRtp(packet: Uint8Array): Buffer | SrtpRejection {
    return this.unprotectRtpInPlace(Buffer.from(packet));
  }

  /**
   * SRTP -> RTP in place (a received datagram's own buffer): the index estimated (3.3.1), replay checked
   * (3.3.2), then authenticated and decrypted; returns the RTP packet, a view of `buf`.
   */
  unprotectRtpInPlace(buf: Buffer): Buffer | SrtpRejection {
    const end = buf.length - this.#cipher.rtpTrailer;
    const header = end >= 12 ? rtpHeaderLength(buf, end) : -1;
    if (header < 0) return 'short';
    const ssrc = readU32(buf, 8);
    const seq = (buf[2]! << 8) | buf[3]!;
    const s = this.#lastIn?.ssrc === ssrc ? this.#lastIn : this.#in.get(ssrc);
    const roc = s ? estimateRoc(s, seq) : 0;
    const index = roc * 0x10000 + seq;
    if (s) {
      const seen = replayed(s, index);
      if (seen) return seen;
    }
    if (this.#cipher.openRtp(buf, header, ssrc, roc, seq) < 0) return 'authentication';
    if (!s) {
      this.#lastIn = { ssrc, roc, seq, highest: index, low: 1, high: 0 };
      this.#in.set(ssrc, this.#lastIn);
    } else {
      this.#lastIn = s;
      remember(s, index, roc, seq);
    }
    return buf.subarray(0, end);
  }

  /** RTCP -> SRTCP (3.4; RFC 7714 9), encrypted, with the next 31-bit SRTCP index. */
  protectRtcp(packet: Uint8Array): Buffer {
    if (packet.length < 8) throw new Error('SRTCP: not an RTCP packet');
    const index = this.#rtcpIndex;
    this.#rtcpIndex = (this.#rtcpIndex + 1) & 0x7fffffff;
    return this.#cipher.sealRtcp(packet, readU32(packet, 4), index);
  }

  unprotectRtcp(packet: Uint8Array): Buffer | SrtpRejection {
    if (packet.length < this.#cipher.rtcpMinimum) return 'short';
    const word = this.#cipher.rtcpWord(packet);
    const index = word & 0x7fffffff;
    const ssrc = readU32(packet, 4);
    const r = this.#rtcpIn.get(ssrc);
    const seen = r && replayed(r, index);
    if (seen) return seen;
    const body = this.#cipher.openRtcp(packet, ssrc, word);
    if (!body) return 'authentication';
    if (r) markSeen(r, index);
    else this.#rtcpIn.set(ssrc, { highest: index, low: 1, high: 0 });
    return body;
  }
}

/** RFC 3711 3.3.1 (Appendix A): which rollover count a received sequence number most likely belongs to. */
function estimateRoc(s: Stream, seq: number): number {
  if (s.seq < 0x8000) return seq - s.seq > 0x8000 ? s.roc - 1 : s.roc;
  return s.seq - 0x8000 > seq ? s.roc + 1 : s.roc;
}

/** After authentication: the window, and s_l/ROC move forward only with the highest index (3.3.1). */
function remember(s: Stream, index: number, roc: number, seq: number): void {
  if (index > s.highest) {
    s.roc = roc;
    s.seq = seq;
  }
  markSeen(s, index);
}
