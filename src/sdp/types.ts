/** The parts of an SDP session description (RFC 4566) that offer/answer (RFC 3264) needs. */

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface Connection {
  readonly ipVer: 4 | 6;
  readonly address: string;
}

export interface RtpMap {
  readonly payload: number;
  readonly codec: string;
  readonly rate: number;
  readonly channels?: number;
}

/**
 * An SDES crypto attribute (RFC 4568 9.1): a=crypto:<tag> <crypto-suite> inline:<key||salt>[|...]. `key` is
 * the decoded master key and salt, absent when the key parameters are not one we can use (not inline, an
 * MKI, several keys) or session parameters are present (RFC 4568 6.3: an unknown one MUST NOT be accepted).
 */
export interface CryptoAttribute {
  readonly tag: number;
  readonly suite: string;
  readonly key?: Uint8Array;
}

export interface MediaDescription {
  readonly type: string;
  readonly port: number;
  readonly proto: string;
  /** Format list as written (payload type numbers for RTP/AVP). */
  readonly formats: readonly string[];
  readonly rtpmap: readonly RtpMap[];
  readonly fmtp: ReadonlyMap<number, string>;
  /** Media-level direction, else session-level, else sendrecv (RFC 4566 6). */
  readonly direction: Direction;
  readonly ptime?: number;
  /** Media-level c=, else session-level c= (RFC 4566 5.7). */
  readonly connection?: Connection;
  /** SDES crypto attributes (RTP/SAVP), in the order given. */
  readonly crypto: readonly CryptoAttribute[];
}

export interface SessionDescription {
  readonly origin: { readonly username: string; readonly sessionId: string; readonly sessionVersion: string };
  readonly media: readonly MediaDescription[];
}

/** A codec we can carry: G.711 only (RFC 3551 static payload types). */
export type CodecName = 'PCMU' | 'PCMA';
export const STATIC_PT: Readonly<Record<CodecName, number>> = { PCMU: 0, PCMA: 8 };
