import { systemClock } from '../../src/io/clock.ts';
import type { Clock } from '../../src/sip/transaction/clock.ts';

/** The real clock, counting the timers that are set and not yet fired or cleared (a leak detector). */
export function countingClock(): Clock & { readonly active: number } {
  const live = new Set<unknown>();
  return {
    now: systemClock.now,
    setTimeout(fn, ms) {
      const h: unknown = systemClock.setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout(h) {
      live.delete(h);
      systemClock.clearTimeout(h);
    },
    get active() {
      return live.size;
    },
  };
}
