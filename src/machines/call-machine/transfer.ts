import { callSetup, end } from './setup.ts';

/**
 * The transfer region of an established call (RFC 3515): a blind transfer we asked for (REFER sent, the
 * outcome in NOTIFYs), or one the peer asks of us (REFER received: we call the target).
 */
export const transferRegion = callSetup.createStateConfig({
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
});
