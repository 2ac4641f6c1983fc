import { assign, setup } from 'xstate';

/**
 * Registration with the upstream server (RFC 3261 10): REGISTER, refresh before the binding expires, retry
 * with backoff when it fails, and unREGISTER (Expires: 0) on shutdown. Effects are named actions and timers
 * are explicit events, as in the call machine.
 */
export type RegistrationEvent =
  | { type: 'reg.start' }
  | { type: 'reg.ok'; expires: number }
  | { type: 'reg.failed'; status: number }
  | { type: 'reg.stop' }
  | { type: 'unreg.done' }
  | { type: 'timer.refresh' }
  | { type: 'timer.retry' };

export interface RegistrationContext {
  /** Seconds granted by the server for the current binding. */
  readonly expires: number;
  /** Failed attempts in a row (drives the backoff). */
  readonly failures: number;
  readonly lastStatus: number | undefined;
}

export const registrationMachine = setup({
  types: {
    context: {} as RegistrationContext,
    events: {} as RegistrationEvent,
  },
  actions: {
    sendRegister: () => {},
    sendUnregister: () => {},
    scheduleRefresh: (_, _params: { expires: number }) => {},
    scheduleRetry: (_, _params: { failures: number }) => {},
    cancelTimers: () => {},
    report: (_, _params: { state: 'registered' | 'failed' | 'unregistered' }) => {},
  },
}).createMachine({
  id: 'registration',
  initial: 'idle',
  context: { expires: 0, failures: 0, lastStatus: undefined },
  states: {
    idle: {
      on: { 'reg.start': 'registering', 'reg.stop': 'unregistered' },
    },
    registering: {
      entry: 'sendRegister',
      on: {
        'reg.ok': {
          target: 'registered',
          actions: assign(({ event }) => ({ expires: event.expires, failures: 0, lastStatus: 200 })),
        },
        'reg.failed': {
          target: 'retrying',
          actions: [
            assign(({ context, event }) => ({ failures: context.failures + 1, lastStatus: event.status })),
            { type: 'report', params: { state: 'failed' } },
          ],
        },
        'reg.stop': 'unregistering',
      },
    },
    registered: {
      entry: [
        { type: 'report', params: { state: 'registered' } },
        { type: 'scheduleRefresh', params: ({ context }) => ({ expires: context.expires }) },
      ],
      on: { 'timer.refresh': 'registering', 'reg.stop': 'unregistering' },
    },
    retrying: {
      entry: { type: 'scheduleRetry', params: ({ context }) => ({ failures: context.failures }) },
      on: { 'timer.retry': 'registering', 'reg.stop': 'unregistered' },
    },
    unregistering: {
      entry: ['cancelTimers', 'sendUnregister'],
      on: { 'unreg.done': 'unregistered' },
    },
    unregistered: {
      type: 'final',
      entry: ['cancelTimers', { type: 'report', params: { state: 'unregistered' } }],
    },
  },
});

/** When to refresh a binding of `expires` seconds: a minute early, or halfway for short ones (ms). */
export const refreshDelayMs = (expires: number): number =>
  (expires > 120 ? expires - 60 : expires / 2) * 1000;

/** Backoff after `failures` failed attempts: 2 s, 4 s, 8 s ... capped at 5 minutes (ms). */
export const retryDelayMs = (failures: number, baseMs = 2000): number =>
  Math.min(baseMs * 2 ** Math.max(0, failures - 1), 300_000);
