import type { SrtpSuite } from '../rtp/srtp.ts';
import type { EndReason, HoldStatus, TransferStatus } from './call-machine/types.ts';

/**
 * What a call tells the outside world (the WebSocket layer turns these into protocol messages). Every event
 * carries the Call-ID; `call.ended` comes exactly once per call, last.
 */
export type CallEvent =
  | {
      readonly type: 'call.incoming';
      readonly callId: string;
      /** The From header value as received (the legacy RING_ANS derives its caller from it). */
      readonly from: string;
      readonly to: string;
      readonly source: string;
      /** The route that took it (ROUTES_FILE's name, `#n`, `webhook`, `default`) and its trunk, if any. */
      readonly route?: string | undefined;
      readonly trunk?: string | undefined;
    }
  | { readonly type: 'call.ringing'; readonly callId: string; readonly status: number }
  | { readonly type: 'call.answered'; readonly callId: string; readonly direction: 'incoming' | 'outgoing' }
  | {
      readonly type: 'call.failed';
      readonly callId: string;
      readonly status: number;
      readonly reason: string;
    }
  | { readonly type: 'call.cancelled'; readonly callId: string }
  /** Early media (EARLY_MEDIA): our 183 with the answer went out; the greeting plays before the answer. */
  | { readonly type: 'call.early'; readonly callId: string }
  | {
      readonly type: 'call.media';
      readonly callId: string;
      readonly codec: 'PCMU' | 'PCMA';
      readonly payloadType: number;
      readonly dtmfPayloadType: number | undefined;
      readonly localPort: number;
      readonly remote: { readonly address: string; readonly port: number } | undefined;
      /** Our direction as negotiated (RFC 3264 6.1). */
      readonly direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
      /** IP the call's SIP signalling comes from (the caller, or the upstream server). */
      readonly signalling: string;
      /** The SRTP suite when the media is encrypted (the keys never leave the call session). */
      readonly srtp?: SrtpSuite;
    }
  | { readonly type: 'call.dtmf'; readonly callId: string; readonly digit: string }
  | {
      /** A transfer we asked for (REFER sent): accepted (202), progress (1xx), completed, or failed. */
      readonly type: 'call.transfer';
      readonly callId: string;
      readonly status: TransferStatus;
      readonly target: string;
      /** The REFER's final response, or the status line the transferee reported (RFC 3515 NOTIFY). */
      readonly code?: number;
      readonly reason?: string;
      /** A warm transfer (the relay calls the target, then joins the calls): its consult call. */
      readonly mode?: 'attended';
      readonly consultCallId?: string;
    }
  | {
      /**
       * A transfer the peer asked of us (REFER received, RFC 3515): accepted (202, calling `target` as
       * `newCallId`), completed (answered: this call ends, the new one goes on) or failed (this call goes on).
       */
      readonly type: 'call.referred';
      readonly callId: string;
      readonly status: TransferStatus;
      readonly target: string;
      readonly newCallId?: string;
      readonly code?: number;
      readonly reason?: string;
    }
  | {
      /** Hold or resume we asked for (RFC 3264 8.4): done, or refused (the call stays as it was). */
      readonly type: 'call.hold';
      readonly callId: string;
      readonly status: HoldStatus;
      readonly code?: number;
    }
  | {
      readonly type: 'call.ended';
      readonly callId: string;
      readonly direction: 'incoming' | 'outgoing';
      readonly reason: EndReason;
      readonly status: number | undefined;
    };
