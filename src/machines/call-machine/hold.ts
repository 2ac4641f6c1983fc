import { callSetup, end } from './setup.ts';

/**
 * A re-INVITE of ours changing the hold (RFC 3264 8.4) in flight: `holding` (a=sendonly, or inactive when
 * the peer holds us) or `resuming` (a=sendrecv, or recvonly). Done: on to `done`; refused: back to `back`,
 * "the session parameters MUST remain unchanged" (RFC 3261 14.1); 491: tried again after the glare wait;
 * 408 or 481: the dialog is gone.
 */
const reinviteInFlight = (
  entry: 'sendHold' | 'sendResume',
  self: 'holding' | 'resuming',
  done: 'held' | 'unheld',
  status: 'held' | 'resumed',
  back: 'unheld' | 'held',
) =>
  callSetup.createStateConfig({
    entry,
    on: {
      'sip.reinviteDone': {
        target: done,
        actions: { type: 'emitHold', params: { status } },
      },
      'sip.reinviteFailed': [
        { guard: 'glare', actions: 'scheduleReinviteRetry' },
        { guard: 'dialogGone', target: '#call.terminating', actions: end('lost') },
        {
          target: back,
          actions: {
            type: 'emitHold',
            params: ({ event }) => ({ status: 'failed', code: event.status }),
          },
        },
      ],
      'timer.reinviteRetry': { target: self, reenter: true },
    },
  });

/** The hold region of an established call: we put it on hold and take it off by re-INVITE. */
export const holdRegion = callSetup.createStateConfig({
  initial: 'unheld',
  states: {
    unheld: { on: { 'client.hold': { target: 'holding' } } },
    holding: reinviteInFlight('sendHold', 'holding', 'held', 'held', 'unheld'),
    held: { on: { 'client.resume': { target: 'resuming' } } },
    resuming: reinviteInFlight('sendResume', 'resuming', 'unheld', 'resumed', 'held'),
  },
});
