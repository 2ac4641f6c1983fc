/**
 * How a stop signal is taken, given the one that started the shutdown (pure; times in ms on one clock).
 * Signals often come twice: systemd's KillMode=control-group and `kill -- -PGID` reach npm as well as node,
 * and one Ctrl-C under `npm start` reaches node from the terminal and again from npm, which forwards it a
 * few milliseconds later. A repeat never cuts the shutdown short; only a second Ctrl-C a person pressed,
 * which comes later than SAME_PRESS_MS and within HURRY_WITHIN_MS, hurries it.
 */
export const SAME_PRESS_MS = 500;
export const HURRY_WITHIN_MS = 5000;

export type SignalVerdict = 'stop' | 'same' | 'hurry';

export function signalVerdict(
  first: { readonly signal: string; readonly at: number } | undefined,
  signal: string,
  now: number,
): SignalVerdict {
  if (!first) return 'stop';
  const since = now - first.at;
  if (signal === 'SIGINT' && first.signal === 'SIGINT' && since >= SAME_PRESS_MS && since < HURRY_WITHIN_MS)
    return 'hurry';
  return 'same';
}
