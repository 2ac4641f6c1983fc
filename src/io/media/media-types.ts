import type { Socket } from 'node:dgram';
import type { Logger } from '../../kernel/logger.ts';
import type { G711 } from '../../media/g711.ts';
import type { SrtpEngine, SrtpSuite } from '../../rtp/srtp.ts';
import type { WavRecorder } from './recording.ts';
import type { RtpScheduler } from './rtp-scheduler.ts';

export interface MediaOptions {
  readonly codec: G711;
  /** Where to send RTP as the SDP says; replaced by the latched source with symmetric RTP. */
  readonly remote: { readonly address: string; readonly port: number } | undefined;
  readonly dtmfPayloadType: number | undefined;
  /** Send silence frames while nothing is queued (keeps PBX RTP timeouts from dropping the call). */
  readonly sendSilence: boolean;
  /** Latch onto the address RTP really comes from (callers behind NAT). */
  readonly symmetric: boolean;
  readonly jitterMs: number;
  /** Our direction as negotiated (RFC 3264 6.1): we send only when sendrecv or sendonly. */
  readonly direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
  /** IP the call's signalling comes from: a source other than the SDP's may only latch from there. */
  readonly signalling?: string | undefined;
  /** SRTP (RFC 3711) with the negotiated SDES keys: ours encrypts what we send, the peer's what we get. */
  readonly srtp?:
    | { readonly suite: SrtpSuite; readonly local: Uint8Array; readonly remote: Uint8Array }
    | undefined;
}

/** A call's RTP statistics (RFC 3550: loss from sequence numbers, interarrival jitter, RTCP round trip). */
export interface MediaReport {
  sent: number;
  received: number;
  lost: number;
  jitterMs: number;
  rttMs: number | undefined;
  /** From our first packet to the first RTP or RTCP heard from the peer (undefined: heard before, or never). */
  firstHeardMs?: number | undefined;
}

export interface MediaStats {
  sent: number;
  received: number;
  ignored: number;
  lastPacketAt: number;
}

/** What a media session is made of: its sockets (leased, not owned), settings and hooks. */
export interface MediaSessionInit {
  readonly callId: string;
  readonly socket: Socket;
  readonly rtcpSocket?: Socket | undefined;
  readonly options: MediaOptions;
  readonly scheduler: RtpScheduler;
  readonly recorder?: WavRecorder | undefined;
  readonly log: Logger;
  /** A key pressed on the phone (RFC 4733 event, reported once per event). */
  readonly onDtmf: (digit: string) => void;
  /** The clock (ms), performance.now() by default. */
  readonly now?: () => number;
  readonly onAudio?: (payloadType: number, payload: Uint8Array) => void;
  /** Whose SRTP: ours unless a benchmark measures another's in the same place. */
  readonly srtpEngine?: SrtpEngine | undefined;
  /** Where the SSRC and the first sequence number and timestamp come from (Math.random by default). */
  readonly random?: () => number;
  /** The clock of the scheduler's deadlines (performance.now() by default). */
  readonly tickClock?: () => number;
  /** Wall-clock ms at `now()` = 0, for RTCP's NTP timestamps (performance.timeOrigin by default). */
  readonly wallOrigin?: number;
}
