import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { deriveSessionKey, LABEL, readU32, type SrtpCipher, type SrtpMasterKey } from './srtp-cipher.ts';

/** RFC 7714 7: AEAD_AES_128_GCM's tag is 16 octets; its IV 12. */
const TAG = 16;

/** One direction's AES-GCM session key and 96-bit session salt, for SRTP or for SRTCP. */
interface GcmKeys {
  readonly key: KeyObject;
  readonly salt: Buffer;
}

/**
 * AEAD_AES_128_GCM (RFC 7714): AES-GCM encrypts and authenticates in one pass; the RTP header (and for
 * SRTCP the first 8 octets with the E flag and index word) is the associated data. Node's GCM takes a
 * fresh IV per object, so each packet makes one cipher; the keys are KeyObjects made once.
 */
export class GcmCipher implements SrtpCipher {
  readonly rtpTrailer = TAG;
  readonly rtcpMinimum = 8 + TAG + 4;
  readonly #rtp: GcmKeys;
  readonly #rtcp: GcmKeys;
  readonly #iv = Buffer.alloc(12);
  readonly #aad = Buffer.alloc(12);

  /** From session keys and salts (the RFC's vectors give these); `fromMaster` derives them. */
  constructor(rtp: { key: Uint8Array; salt: Uint8Array }, rtcp: { key: Uint8Array; salt: Uint8Array }) {
    this.#rtp = { key: createSecretKey(rtp.key), salt: Buffer.from(rtp.salt) };
    this.#rtcp = { key: createSecretKey(rtcp.key), salt: Buffer.from(rtcp.salt) };
  }

  /** RFC 7714 11: the session keys come from the AES-CM PRF of RFC 3711 (labels 0/2 and 3/5; no auth key). */
  static fromMaster(master: SrtpMasterKey): GcmCipher {
    return new GcmCipher(
      {
        key: deriveSessionKey(master, LABEL.rtpEncryption, 16),
        salt: deriveSessionKey(master, LABEL.rtpSalt, 12),
      },
      {
        key: deriveSessionKey(master, LABEL.rtcpEncryption, 16),
        salt: deriveSessionKey(master, LABEL.rtcpSalt, 12),
      },
    );
  }

  /** RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt. A scratch buffer (createCipheriv copies it). */
  #rtpIv(ssrc: number, roc: number, seq: number): Buffer {
    const iv = this.#iv;
    const s = this.#rtp.salt;
    iv[0] = s[0]!;
    iv[1] = s[1]!;
    iv.writeUInt32BE((s.readUInt32BE(2) ^ ssrc) >>> 0, 2);
    iv.writeUInt32BE((s.readUInt32BE(6) ^ roc) >>> 0, 6);
    iv.writeUInt16BE(s.readUInt16BE(10) ^ seq, 10);
    return iv;
  }

  /** RFC 7714 9.1: IV = (00 00 || SSRC || 00 00 || 0 + SRTCP index) XOR salt. */
  #rtcpIv(ssrc: number, index: number): Buffer {
    const iv = this.#iv;
    this.#rtcp.salt.copy(iv, 0);
    iv.writeUInt32BE((iv.readUInt32BE(2) ^ ssrc) >>> 0, 2);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ index) >>> 0, 8);
    return iv;
  }

  /** RFC 7714 8.2, 8.3: AAD = the RTP header; the packet is header || ciphertext || tag. */
  sealRtp(buf: Buffer, length: number, header: number, ssrc: number, roc: number, seq: number): number {
    const c = createCipheriv('aes-128-gcm', this.#rtp.key, this.#rtpIv(ssrc, roc, seq), {
      authTagLength: TAG,
    });
    c.setAAD(buf.subarray(0, header));
    c.update(buf.subarray(header, length)).copy(buf, header);
    c.final();
    c.getAuthTag().copy(buf, length);
    return length + TAG;
  }

  openRtp(buf: Buffer, header: number, ssrc: number, roc: number, seq: number): number {
    const end = buf.length - TAG;
    const d = createDecipheriv('aes-128-gcm', this.#rtp.key, this.#rtpIv(ssrc, roc, seq), {
      authTagLength: TAG,
    });
    d.setAAD(buf.subarray(0, header));
    d.setAuthTag(buf.subarray(end));
    const plain = d.update(buf.subarray(header, end));
    if (!finalOk(d)) return -1;
    plain.copy(buf, header);
    return end;
  }

  /**
   * RFC 7714 9.2 (E = 1): AAD = the first 8 octets || E flag and index; the packet is header ||
   * ciphertext || tag || E flag and index (Figure 3: the index word comes after the tag).
   */
  sealRtcp(packet: Uint8Array, ssrc: number, index: number): Buffer {
    const word = (0x80000000 | index) >>> 0;
    const c = createCipheriv('aes-128-gcm', this.#rtcp.key, this.#rtcpIv(ssrc, index), {
      authTagLength: TAG,
    });
    c.setAAD(this.#rtcpAad(packet, word));
    const out = Buffer.allocUnsafe(packet.length + TAG + 4);
    out.set(packet.subarray(0, 8));
    out.set(c.update(packet.subarray(8)), 8);
    c.final();
    out.set(c.getAuthTag(), packet.length);
    out.writeUInt32BE(word, packet.length + TAG);
    return out;
  }

  rtcpWord(packet: Uint8Array): number {
    return readU32(packet, packet.length - 4);
  }

  /** E = 1: decrypt and verify; E = 0 (RFC 7714 9.3): the whole RTCP packet is AAD, nothing is encrypted. */
  openRtcp(packet: Uint8Array, ssrc: number, word: number): Buffer | undefined {
    const end = packet.length - 4 - TAG;
    const index = word & 0x7fffffff;
    const d = createDecipheriv('aes-128-gcm', this.#rtcp.key, this.#rtcpIv(ssrc, index), {
      authTagLength: TAG,
    });
    d.setAuthTag(packet.subarray(end, end + TAG));
    if (word & 0x80000000) {
      d.setAAD(this.#rtcpAad(packet, word));
      const plain = d.update(packet.subarray(8, end));
      if (!finalOk(d)) return undefined;
      const out = Buffer.allocUnsafe(end);
      out.set(packet.subarray(0, 8));
      out.set(plain, 8);
      return out;
    }
    d.setAAD(Buffer.concat([packet.subarray(0, end), packet.subarray(end + TAG)]));
    return finalOk(d) ? Buffer.from(packet.subarray(0, end)) : undefined;
  }

  /** The 12 octets of SRTCP's AAD when encrypted: the RTCP header's 8 and the E flag and index word. */
  #rtcpAad(packet: Uint8Array, word: number): Buffer {
    this.#aad.set(packet.subarray(0, 8));
    this.#aad.writeUInt32BE(word, 8);
    return this.#aad;
  }
}

/** GCM's final() throws when the tag does not verify: that is a forged or damaged packet, not an error. */
function finalOk(d: { final(): Buffer }): boolean {
  try {
    d.final();
    return true;
  } catch {
    return false;
  }
}
