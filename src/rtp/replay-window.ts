/**
 * The replay list of an SRTP or SRTCP receiver (RFC 3711 3.3.2): the highest index accepted and which of
 * the 64 before it came (bit n: n behind). "the replay list SHOULD be at least 64 packets wide".
 */
export interface ReplayWindow {
  highest: number;
  /** Bits 0-31: 0-31 packets behind the highest. */
  low: number;
  /** Bits 0-31: 32-63 packets behind the highest. */
  high: number;
}

export const REPLAY_WINDOW = 64;

/** Why a packet is dropped before use. */
export type ReplayVerdict = 'replay' | 'too old';

/** An index already received, or too far behind the highest, is dropped (3.3.2). */
export function replayed(w: ReplayWindow, index: number): ReplayVerdict | undefined {
  if (index > w.highest) return undefined;
  const behind = w.highest - index;
  if (behind >= REPLAY_WINDOW) return 'too old';
  return seenAt(w, behind) ? 'replay' : undefined;
}

const seenAt = (w: ReplayWindow, behind: number): boolean =>
  behind < 32 ? ((w.low >>> behind) & 1) === 1 : ((w.high >>> (behind - 32)) & 1) === 1;

/** Records an authenticated index: the window slides forward with a new highest. */
export function markSeen(w: ReplayWindow, index: number): void {
  if (index > w.highest) {
    const shift = index - w.highest;
    if (shift >= REPLAY_WINDOW) {
      w.low = 1;
      w.high = 0;
    } else if (shift >= 32) {
      w.high = shift === 32 ? w.low : (w.low << (shift - 32)) >>> 0;
      w.low = 1;
    } else {
      w.high = ((w.high << shift) | (w.low >>> (32 - shift))) >>> 0;
      w.low = ((w.low << shift) | 1) >>> 0;
    }
    w.highest = index;
  } else {
    const behind = w.highest - index;
    if (behind < 32) w.low = (w.low | (1 << behind)) >>> 0;
    else w.high = (w.high | (1 << (behind - 32))) >>> 0;
  }
}
