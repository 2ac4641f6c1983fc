import type { Clock } from '../../src/sip/transaction/clock.ts';

/**
 * A real clock whose long timers run `factor` times faster: delays of `from` ms or more (session timers,
 * 45 s and 60 s at a 90 s interval) shrink, shorter ones (SIP transaction timers up to 32 s, RTP) stay.
 * For peer tests of timers the RFCs put minutes apart; the peer itself runs in real time.
 */
export function fastClock(factor: number, from = 40_000): Clock {
  return {
    now: () => performance.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms >= from ? ms / factor : ms),
    clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  };
}
