import { holdRegion } from './call-machine/hold.ts';
import { sessionRegion } from './call-machine/session-timer.ts';
import { callSetup, end } from './call-machine/setup.ts';
import { transferRegion } from './call-machine/transfer.ts';

/**
 * One call, one actor. States: idle -> inviting (outgoing) -> ringing -> established -> terminating -> ended.
 * The machine decides; the call session performs: every side effect is a named action bound with
 * `.provide()`, and every timer is an explicit event (`timer.*`) sent by the session's clock, so the graph is
 * finite and model-based tests can walk it. The established call's regions (hold, transfer, session timer)
 * are in call-machine/; the actions, guards and types in call-machine/setup.ts and types.ts.
 */
export const callMachine = callSetup.createMachine({
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
        hold: holdRegion,
        transfer: transferRegion,
        session: sessionRegion,
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
