// The call machine's vocabulary: why a call ended, the events it takes, what it emits, its context.

export type EndReason =
  | 'remote-bye' // the peer sent BYE
  | 'local-hangup' // a client hung up an established call
  | 'cancelled' // the caller cancelled before answer (incoming) / we cancelled (outgoing)
  | 'rejected' // a client rejected the incoming call
  | 'no-answer' // nobody answered in time
  | 'ack-timeout' // our 2xx was never acknowledged (RFC 3261 13.3.1.4)
  | 'transferred' // we referred the peer elsewhere and the transfer succeeded (RFC 3515)
  | 'session-expired' // the session timer ran out unrefreshed, or our refresh got 408/481 (RFC 4028 10)
  | 'lost' // our re-INVITE timed out or got 481: the peer no longer knows the dialog
  | 'no-prack' // our reliable 183 was never PRACKed (RFC 3262 3: the INVITE is refused with a 5xx)
  | 'rtp-timeout' // no RTP for RTP_TIMEOUT_S, or nothing heard for RTP_START_TIMEOUT_S: we hung up
  | 'failed'; // the far end refused (3xx-6xx) or never answered (408)

export type CallMachineEvent =
  | { type: 'sip.invite' }
  | { type: 'client.dial' }
  | { type: 'client.answer' }
  | { type: 'client.reject'; status?: number }
  /** A hang-up of ours: a client's, or the media watchdog's (`reason` rtp-timeout). */
  | { type: 'client.hangup'; reason?: 'rtp-timeout' }
  | { type: 'sip.provisional'; status: number }
  | { type: 'sip.answered' }
  | { type: 'sip.failed'; status: number; reason: string }
  | { type: 'sip.timeout' }
  | { type: 'sip.ack' }
  | { type: 'sip.cancel' }
  | { type: 'sip.bye' }
  | { type: 'sip.byeDone' }
  | { type: 'media.dtmf'; digit: string }
  | { type: 'client.transfer'; target: string }
  | { type: 'sip.referAccepted' }
  | { type: 'sip.transferProgress'; status: number }
  | { type: 'sip.transferDone'; status: number }
  | { type: 'sip.transferFailed'; status: number; reason: string }
  | { type: 'timer.noAnswer' }
  | { type: 'timer.ackTimeout' }
  | { type: 'timer.prackTimeout' }
  | { type: 'timer.transfer' }
  | { type: 'sip.refer'; target: string }
  | { type: 'referred.done'; status: number }
  | { type: 'referred.failed'; status: number; reason: string }
  | { type: 'timer.sessionRefresh' }
  | { type: 'timer.sessionExpired' }
  | { type: 'sip.refreshed' }
  | { type: 'sip.refreshFailed'; status: number }
  | { type: 'client.hold' }
  | { type: 'client.resume' }
  | { type: 'sip.reinviteDone' }
  | { type: 'sip.reinviteFailed'; status: number }
  | { type: 'timer.reinviteRetry' };

/** What hold and resume came to (the `call.hold` event's status). */
export type HoldStatus = 'held' | 'resumed' | 'failed';

/** How a transfer we asked for goes (the `call.transfer` event's status). */
export type TransferStatus = 'accepted' | 'progress' | 'consulting' | 'completed' | 'failed';

export type EmittedType =
  | 'call.incoming'
  | 'call.ringing'
  | 'call.answered'
  | 'call.failed'
  | 'call.cancelled'
  | 'call.ended';

export interface CallContext {
  readonly direction: 'incoming' | 'outgoing';
  readonly reason: EndReason | undefined;
  readonly status: number | undefined;
  readonly statusText: string | undefined;
}
