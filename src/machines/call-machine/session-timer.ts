import { callSetup, end } from './setup.ts';

/** The session timer's region of an established call (RFC 4028): our refreshes when we are the refresher. */
export const sessionRegion = callSetup.createStateConfig({
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
});
