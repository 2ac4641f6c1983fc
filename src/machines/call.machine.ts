import { assign, setup } from 'xstate';
import { dialogGone } from '../sip/dialog/reinvite.ts';

/**
 * One call, one actor. States: idle -> inviting (outgoing) -> ringing -> established -> terminating -> ended.
 * The machine decides; the call session performs: every side effect is a named action bound with
 * `.provide()`, and every timer is an explicit event (`timer.*`) sent by the session's clock, so the graph is
 * finite and model-based tests can walk it.
 */

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

const end = (reason: EndReason) => ({ type: 'setReason', params: { reason } }) as const;

export const callMachine = setup({
  types: {
    context: {} as CallContext,
    events: {} as CallMachineEvent,
    input: {} as { direction: 'incoming' | 'outgoing' },
  },
  actions: {
    // UAS
    sendRinging: () => {},
    startRingTimer: () => {},
    sendAnswer: () => {},
    sendReject: (_, _params: { status: number; reason?: string }) => {},
    sendRequestTerminated: () => {},
    // UAC
    sendInvite: () => {},
    sendCancel: () => {},
    sendAck: () => {},
    // both
    sendBye: () => {},
    stopTimers: () => {},
    emit: (_, _params: { type: EmittedType }) => {},
    emitDtmf: (_, _params: { digit: string }) => {},
    // transfer (RFC 3515)
    sendRefer: (_, _params: { target: string }) => {},
    endTransfer: () => {},
    emitTransfer: (_, _params: { status: TransferStatus; code?: number; reason?: string }) => {},
    // a transfer the peer asks of us (REFER received): the new call to the target
    startReferredCall: (_, _params: { target: string }) => {},
    emitReferred: (_, _params: { status: TransferStatus; code?: number; reason?: string }) => {},
    // session timer (RFC 4028)
    sendRefresh: () => {},
    // hold (RFC 3264 8.4) by re-INVITE
    sendHold: () => {},
    sendResume: () => {},
    scheduleReinviteRetry: () => {},
    emitHold: (_, _params: { status: HoldStatus; code?: number }) => {},
    // context bookkeeping (pure)
    setReason: assign((_, params: { reason: EndReason }) => ({ reason: params.reason })),
    recordFailure: assign(({ event }) =>
      event.type === 'sip.failed'
        ? { reason: 'failed' as const, status: event.status, statusText: event.reason }
        : {},
    ),
    recordTimeout: assign({ reason: 'failed' as const, status: 408, statusText: 'Request Timeout' }),
  },
  guards: {
    // RFC 4028 10: "If the session refresh request transaction times out or generates a 408 or 481
    // response, then the UAC sends a BYE request"; another failure (491 glare, 500) leaves the session
    refreshFatal: ({ event }) => event.type === 'sip.refreshFailed' && dialogGone(event.status),
    // RFC 3261 14.1: our re-INVITE met another (491 Request Pending): tried again after a random wait
    glare: ({ event }) => event.type === 'sip.reinviteFailed' && event.status === 491,
    // RFC 3261 14.1 / 12.2.1.2: a re-INVITE timed out or the dialog is gone: the call is over
    dialogGone: ({ event }) => event.type === 'sip.reinviteFailed' && dialogGone(event.status),
  },
}).createMachine({
  id: 'call',
  initial: 'idle',
  context: ({ input }) => ({
    direction: input.direction,
    reason: undefined,
    status: undefined,
    statusText: undefined,
  }),
  states: {
    idle: {
      on: {
        'sip.invite': { target: 'ringing.alerting' },
        'client.dial': { target: 'inviting' },
      },
    },
    inviting: {
      entry: 'sendInvite',
      initial: 'trying',
      states: {
        trying: {
          on: {
            'sip.provisional': {
              target: '#call.ringing.remote',
              actions: { type: 'emit', params: { type: 'call.ringing' } },
            },
            'sip.answered': {
              target: '#call.established',
              actions: ['sendAck', { type: 'emit', params: { type: 'call.answered' } }],
            },
            // RFC 3261 9.1: "If no provisional response has been received, the CANCEL request MUST NOT be
            // sent; rather, the client MUST wait for the arrival of a provisional response"
            'client.hangup': { target: 'cancelPending' },
          },
        },
        cancelPending: {
          on: {
            'sip.provisional': { target: '#call.ringing.cancelling' },
            'sip.answered': { target: '#call.terminating', actions: ['sendAck', end('cancelled')] },
          },
        },
      },
      on: {
        'sip.failed': {
          target: 'ended',
          actions: ['recordFailure', { type: 'emit', params: { type: 'call.failed' } }],
        },
        'sip.timeout': {
          target: 'ended',
          actions: ['recordTimeout', { type: 'emit', params: { type: 'call.failed' } }],
        },
      },
    },
    ringing: {
      initial: 'alerting',
      on: {
        // RFC 3262 3: "If a reliable provisional response is retransmitted for 64*T1 seconds without
        // reception of a corresponding PRACK, the UAS SHOULD reject the original request with a 5xx
        // response." Whatever the ringing call waits for (a client, the greeting, the PRACK before our 2xx),
        // it ends here: the caller that never PRACKs holds no call slot.
        'timer.prackTimeout': {
          target: '#call.ended',
          actions: [
            { type: 'sendReject', params: { status: 500, reason: 'Server Internal Error (no PRACK)' } },
            end('no-prack'),
          ],
        },
      },
      states: {
        // incoming: we sent 180 and wait for an answer (auto-answer or a client)
        alerting: {
          entry: [{ type: 'emit', params: { type: 'call.incoming' } }, 'sendRinging', 'startRingTimer'],
          on: {
            'client.answer': { target: 'accepted' },
            'client.reject': {
              target: '#call.ended',
              actions: [
                { type: 'sendReject', params: ({ event }) => ({ status: event.status ?? 486 }) },
                end('rejected'),
              ],
            },
            'client.hangup': {
              target: '#call.ended',
              actions: [{ type: 'sendReject', params: { status: 486 } }, end('rejected')],
            },
            'timer.noAnswer': {
              target: '#call.ended',
              actions: [{ type: 'sendReject', params: { status: 480 } }, end('no-answer')],
            },
            // RFC 3261 9.2: CANCEL -> 487 for the INVITE; an early BYE ends the INVITE the same way
            'sip.cancel': {
              target: '#call.ended',
              actions: [
                'sendRequestTerminated',
                { type: 'emit', params: { type: 'call.cancelled' } },
                end('cancelled'),
              ],
            },
            'sip.bye': {
              target: '#call.ended',
              actions: [
                'sendRequestTerminated',
                { type: 'emit', params: { type: 'call.cancelled' } },
                end('cancelled'),
              ],
            },
          },
        },
        // incoming: 200 OK sent and retransmitted until the ACK (RFC 3261 13.3.1.4)
        accepted: {
          entry: 'sendAnswer',
          on: {
            'sip.ack': {
              target: '#call.established',
              actions: ['stopTimers', { type: 'emit', params: { type: 'call.answered' } }],
            },
            'timer.ackTimeout': { target: '#call.terminating', actions: end('ack-timeout') },
            'sip.bye': { target: '#call.ended', actions: end('remote-bye') },
            // "The callee's UA MUST NOT send a BYE on a confirmed dialog until it has received an ACK for its
            // 2xx response or until the server transaction times out" (RFC 3261 15)
            'client.hangup': { target: 'hangupPending' },
          },
        },
        hangupPending: {
          on: {
            'sip.ack': { target: '#call.terminating', actions: ['stopTimers', end('local-hangup')] },
            'timer.ackTimeout': { target: '#call.terminating', actions: end('ack-timeout') },
            'sip.bye': { target: '#call.ended', actions: end('remote-bye') },
          },
        },
        // outgoing: the far end is ringing (1xx received)
        remote: {
          on: {
            'sip.answered': {
              target: '#call.established',
              actions: ['sendAck', { type: 'emit', params: { type: 'call.answered' } }],
            },
            'sip.failed': {
              target: '#call.ended',
              actions: ['recordFailure', { type: 'emit', params: { type: 'call.failed' } }],
            },
            'sip.timeout': {
              target: '#call.ended',
              actions: ['recordTimeout', { type: 'emit', params: { type: 'call.failed' } }],
            },
            'client.hangup': { target: 'cancelling' },
            'timer.noAnswer': { target: 'cancelling' },
          },
        },
        // outgoing: CANCEL sent; the INVITE ends with 487, or a 200 crossed it (ACK, then BYE)
        cancelling: {
          entry: 'sendCancel',
          on: {
            'sip.failed': { target: '#call.ended', actions: end('cancelled') },
            'sip.timeout': { target: '#call.ended', actions: end('cancelled') },
            'sip.answered': { target: '#call.terminating', actions: ['sendAck', end('cancelled')] },
          },
        },
      },
    },
    // three regions: a transfer we asked for, the session timer's refresh (RFC 4028), and our hold
    established: {
      type: 'parallel',
      states: {
        hold: {
          initial: 'unheld',
          states: {
            unheld: { on: { 'client.hold': { target: 'holding' } } },
            // re-INVITE with a=sendonly (or inactive when the peer holds us) in flight
            holding: {
              entry: 'sendHold',
              on: {
                'sip.reinviteDone': {
                  target: 'held',
                  actions: { type: 'emitHold', params: { status: 'held' } },
                },
                'sip.reinviteFailed': [
                  { guard: 'glare', actions: 'scheduleReinviteRetry' },
                  { guard: 'dialogGone', target: '#call.terminating', actions: end('lost') },
                  {
                    target: 'unheld',
                    actions: {
                      type: 'emitHold',
                      params: ({ event }) => ({ status: 'failed', code: event.status }),
                    },
                  },
                ],
                'timer.reinviteRetry': { target: 'holding', reenter: true },
              },
            },
            held: { on: { 'client.resume': { target: 'resuming' } } },
            // re-INVITE with a=sendrecv (recvonly when the peer holds us) in flight
            resuming: {
              entry: 'sendResume',
              on: {
                'sip.reinviteDone': {
                  target: 'unheld',
                  actions: { type: 'emitHold', params: { status: 'resumed' } },
                },
                'sip.reinviteFailed': [
                  { guard: 'glare', actions: 'scheduleReinviteRetry' },
                  { guard: 'dialogGone', target: '#call.terminating', actions: end('lost') },
                  {
                    target: 'held',
                    actions: {
                      type: 'emitHold',
                      params: ({ event }) => ({ status: 'failed', code: event.status }),
                    },
                  },
                ],
                'timer.reinviteRetry': { target: 'resuming', reenter: true },
              },
            },
          },
        },
        transfer: {
          initial: 'active',
          states: {
            active: {
              on: {
                'client.transfer': {
                  target: 'transferring',
                  actions: { type: 'sendRefer', params: ({ event }) => ({ target: event.target }) },
                },
                'sip.refer': {
                  target: 'referred',
                  actions: [
                    { type: 'emitReferred', params: { status: 'accepted' } },
                    { type: 'startReferredCall', params: ({ event }) => ({ target: event.target }) },
                  ],
                },
              },
            },
            // REFER received and accepted (202): we call the target; the peer hears how it goes in NOTIFYs.
            // Answered: this call is over (the new one goes on); not: this call goes on
            referred: {
              on: {
                'referred.done': {
                  target: '#call.terminating',
                  actions: [
                    {
                      type: 'emitReferred',
                      params: ({ event }) => ({ status: 'completed', code: event.status }),
                    },
                    end('transferred'),
                  ],
                },
                'referred.failed': {
                  target: 'active',
                  actions: {
                    type: 'emitReferred',
                    params: ({ event }) => ({ status: 'failed', code: event.status, reason: event.reason }),
                  },
                },
              },
            },
            // REFER sent (blind transfer): media flows on until the transferee reports the outcome in a NOTIFY
            // (RFC 3515 2.4.4); a refusal or a failed reference brings the call back to active
            transferring: {
              exit: 'endTransfer',
              on: {
                'sip.referAccepted': {
                  actions: { type: 'emitTransfer', params: { status: 'accepted' } },
                },
                'sip.transferProgress': {
                  actions: {
                    type: 'emitTransfer',
                    params: ({ event }) => ({ status: 'progress', code: event.status }),
                  },
                },
                'sip.transferDone': {
                  target: '#call.terminating',
                  actions: [
                    {
                      type: 'emitTransfer',
                      params: ({ event }) => ({ status: 'completed', code: event.status }),
                    },
                    end('transferred'),
                  ],
                },
                'sip.transferFailed': {
                  target: 'active',
                  actions: {
                    type: 'emitTransfer',
                    params: ({ event }) => ({ status: 'failed', code: event.status, reason: event.reason }),
                  },
                },
                'timer.transfer': {
                  target: 'active',
                  actions: {
                    type: 'emitTransfer',
                    params: { status: 'failed', code: 408, reason: 'no outcome reported in time' },
                  },
                },
              },
            },
          },
        },
        session: {
          initial: 'idle',
          states: {
            idle: {
              on: { 'timer.sessionRefresh': { target: 'refreshing' } },
            },
            // we are the refresher and half the interval has passed: UPDATE or re-INVITE sent
            refreshing: {
              entry: 'sendRefresh',
              on: {
                'sip.refreshed': { target: 'idle' },
                'sip.refreshFailed': [
                  { guard: 'refreshFatal', target: '#call.terminating', actions: end('session-expired') },
                  { target: 'idle' },
                ],
              },
            },
          },
        },
      },
      on: {
        // a key press (RFC 4733 or SIP INFO) surfaces here, so a call only reports DTMF while it is up
        'media.dtmf': { actions: { type: 'emitDtmf', params: ({ event }) => ({ digit: event.digit }) } },
        'sip.bye': { target: 'ended', actions: end('remote-bye') },
        'client.hangup': {
          target: 'terminating',
          actions: { type: 'setReason', params: ({ event }) => ({ reason: event.reason ?? 'local-hangup' }) },
        },
        // RFC 4028 10: no refresh came (or ours went unanswered) before the session expired: BYE
        'timer.sessionExpired': { target: 'terminating', actions: end('session-expired') },
      },
    },
    terminating: {
      entry: 'sendBye',
      on: {
        'sip.byeDone': { target: 'ended' },
        'sip.bye': { target: 'ended' }, // BYEs crossed
      },
    },
    ended: {
      type: 'final',
      entry: ['stopTimers', { type: 'emit', params: { type: 'call.ended' } }],
    },
  },
});
