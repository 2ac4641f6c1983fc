import { createCipheriv } from 'node:crypto';

/**
 * What an SRTP suite does to one packet, for one direction's master key: SRTP's transforms (RFC 3711 3.3,
 * 3.4; RFC 7714 8, 9). The context around it (srtp.ts) keeps the indexes, rollover counter and replay
 * windows; a cipher only seals and opens, with the index it is given.
 */
export interface SrtpCipher {
  /** Bytes SRTP adds after an RTP packet (the tag). */
  readonly rtpTrailer: number;
  /** The shortest SRTCP packet: the 8-byte RTCP header, the E flag and index word, the tag. */
  readonly rtcpMinimum: number;
  /**
   * In place: encrypts `buf[header..length)` and writes the tag at `buf[length..]` (the buffer has room for
   * `rtpTrailer` more bytes); returns the SRTP packet's length.
   */
  sealRtp(buf: Buffer, length: number, header: number, ssrc: number, roc: number, seq: number): number;
  /** In place: authenticates and decrypts `buf`; returns the RTP packet's length, or -1 if not authentic. */
  openRtp(buf: Buffer, header: number, ssrc: number, roc: number, seq: number): number;
  /** RTCP -> SRTCP, encrypted (E = 1) with this 31-bit index. */
  sealRtcp(packet: Uint8Array, ssrc: number, index: number): Buffer;
  /** The E flag and SRTCP index word of a packet at least `rtcpMinimum` long. */
  rtcpWord(packet: Uint8Array): number;
  /** The RTCP packet, or undefined when the packet is not authentic. */
  openRtcp(packet: Uint8Array, ssrc: number, word: number): Buffer | undefined;
}

/** Master key and master salt, as an SDES inline key carries them (key || salt). */
export interface SrtpMasterKey {
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
}

/** RFC 3711 4.3.1: the key derivation labels. */
export const LABEL = {
  rtpEncryption: 0,
  rtpAuth: 1,
  rtpSalt: 2,
  rtcpEncryption: 3,
  rtcpAuth: 4,
  rtcpSalt: 5,
} as const;

/**
 * RFC 3711 4.3.1 and 4.3.3, key derivation rate 0: "key_id = <label> || r" with r = 0, "x = key_id XOR
 * master_salt", and the session key is the AES-CM keystream of the master key with IV = x * 2^16. A 96-bit
 * master salt (AEAD_AES_128_GCM) is first multiplied by 2^16 to make the 112-bit one (RFC 7714 11, erratum
 * 4938): it is copied to the left and zero-filled on the right.
 */
export function deriveSessionKey(master: SrtpMasterKey, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  Buffer.from(master.salt).copy(iv, 0, 0, 14);
  iv[7] = iv[7]! ^ label; // the label sits 7 bytes from the right of the 14-byte salt (r is 48 bits)
  const cipher = createCipheriv('aes-128-ctr', master.key, iv);
  return cipher.update(Buffer.alloc(length));
}

export const readU32 = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
