import type { PlayoutQueue } from '../../media/playout-queue.ts';

/** The error text both protocols give when a call's playout queue is at MAX_QUEUED_AUDIO_S. */
export function queueFull(q: PlayoutQueue): string {
  const limit = Math.round(q.limitMs / 1000);
  return `audio queue full: ${Math.round(q.queuedMs / 1000)} s queued, at most ${limit} s per call (MAX_QUEUED_AUDIO_S)`;
}
