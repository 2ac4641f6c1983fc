import type { Clock } from '../sip/transaction/clock.ts';

/** The real clock (monotonic now, Node timers). Tests inject a manual one instead. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
