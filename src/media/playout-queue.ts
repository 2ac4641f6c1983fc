/** 20 ms of 8 kHz audio. */
export const FRAME_SAMPLES = 160;

/**
 * What a call will play, in order: the greeting, then audio from clients or the AI, cut into 20 ms frames
 * (the last one padded with silence). It can be flushed at once (barge-in) and counts what was really
 * played, so a client can tell where playback stands (the playout clock).
 */
export class PlayoutQueue {
  readonly #frames: Int16Array[] = [];
  #played = 0;

  /** Queues 8 kHz 16-bit mono samples. */
  enqueue(samples: Int16Array): void {
    for (let i = 0; i < samples.length; i += FRAME_SAMPLES) {
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(samples.subarray(i, Math.min(i + FRAME_SAMPLES, samples.length)));
      this.#frames.push(frame);
    }
  }

  /** The next frame to send, or undefined when nothing is queued. */
  next(): Int16Array | undefined {
    const f = this.#frames.shift();
    if (f) this.#played++;
    return f;
  }

  /** Drops everything queued (barge-in); returns how many frames were dropped. */
  clear(): number {
    const n = this.#frames.length;
    this.#frames.length = 0;
    return n;
  }

  get queuedFrames(): number {
    return this.#frames.length;
  }

  get playedFrames(): number {
    return this.#played;
  }

  get playedMs(): number {
    return this.#played * 20;
  }
}
