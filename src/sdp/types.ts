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
}

export interface SessionDescription {
  readonly origin: { readonly username: string; readonly sessionId: string; readonly sessionVersion: string };
  readonly media: readonly MediaDescription[];
}

/** A codec we can carry: G.711 only (RFC 3551 static payload types). */
export type CodecName = 'PCMU' | 'PCMA';
export const STATIC_PT: Readonly<Record<CodecName, number>> = { PCMU: 0, PCMA: 8 };
