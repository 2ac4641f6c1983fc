import { masterKeyLength, SRTP_SUITES, type SrtpSuite } from '../rtp/srtp.ts';
import type { CodecName, NegotiationOptions, OfferedCrypto, SrtpPolicy } from '../sdp/index.ts';
import type { SessionTimerSettings } from '../sip/dialog/session-timer.ts';
import type { TransportName } from '../sip/transport/transport.ts';
/** Where SRTP master keys come from: `bytes` from a cryptographically strong source. */
export type KeySource = (bytes: number) => Uint8Array;

/** The platform's CSPRNG (Web Crypto, global in Node 20+): the default key source. */
export const webCryptoKey: KeySource = (bytes) => crypto.getRandomValues(new Uint8Array(bytes));

/** One call's RTP/RTCP port pair (bound sockets live in src/io; the engine only needs the numbers). */
export interface MediaPorts {
  readonly rtpPort: number;
  readonly rtcpPort: number;
}

export interface CallSettings {
  readonly autoAnswer: boolean;
  readonly ringDelayMs: number;
  readonly ringTimeoutMs: number;
  readonly codecs: readonly CodecName[];
  readonly codecOrder: 'offer' | 'local';
  /** Address in our SDP (c=, o=). */
  readonly mediaAddress: string;
  /** User part of our Contact. */
  readonly contactUser: string;
  /** Why RTP may not go to an SDP's address (our own sockets, a subnet broadcast); see chooseMedia. */
  readonly refuseRemote?: (address: string, port: number) => string | undefined;
  /** SRTP (off, offer, require); absent: off. */
  readonly srtp?: SrtpPolicy['mode'];
  /** The SRTP suites we take and offer, ours in order of preference; absent: all we do. */
  readonly srtpSuites?: readonly SrtpSuite[];
  /** How long a transfer we asked for may go without its outcome (TRANSFER_TIMEOUT_S); absent: 60 s. */
  readonly transferTimeoutMs?: number;
  /** EARLY_MEDIA: 183 with the answer and the greeting before the call is answered (RFC 3262, 6337). */
  readonly earlyMedia?: boolean;
  /** SESSION_EXPIRES and SESSION_MIN_SE (RFC 4028); absent: 1800 and 90 s. */
  readonly sessionTimers?: SessionTimerSettings;
}

/** How a call negotiates media: our codecs and order, where RTP may not go, and SRTP on its transport. */
export function negotiationOptions(
  s: CallSettings,
  transport: TransportName | undefined,
  offered?: readonly OfferedCrypto[],
  randomKey: KeySource = webCryptoKey,
): NegotiationOptions {
  return {
    codecs: s.codecs,
    order: s.codecOrder,
    ...(s.refuseRemote ? { refuseRemote: s.refuseRemote } : {}),
    srtp: {
      mode: s.srtp ?? 'off',
      secure: transport === 'tls',
      suites: s.srtpSuites ?? SRTP_SUITES,
      newKey: (suite) => randomKey(masterKeyLength(suite)),
      ...(offered ? { offered } : {}),
    },
  };
}
