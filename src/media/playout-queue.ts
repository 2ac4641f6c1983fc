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
  /** Samples of a stream that did not fill a whole frame yet (appendStream). */
  #tail: Int16Array = new Int16Array(0);
  /** Marks fire when the frames queued before them have been played, or when a clear drops them. */
  #marks: Array<{ at: number; fire: (reason: 'played' | 'cleared') => void }> = [];

  /** Called when audio is queued into an empty queue (a talkspurt may start before the next tick). */
  onStart: (() => void) | undefined;

  /** Queues 8 kHz 16-bit mono samples. */
  enqueue(samples: Int16Array): void {
    const wasEmpty = this.#frames.length === 0;
    for (let i = 0; i < samples.length; i += FRAME_SAMPLES) {
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(samples.subarray(i, Math.min(i + FRAME_SAMPLES, samples.length)));
      this.#frames.push(frame);
    }
    if (wasEmpty && this.#frames.length > 0) this.onStart?.();
  }

  /**
   * Queues audio that arrives in chunks of any size (a media stream): whole frames are queued, the rest
   * waits for the next chunk (a mark or the end of the stream pads it out).
   */
  appendStream(samples: Int16Array): void {
    const all = new Int16Array(this.#tail.length + samples.length);
    all.set(this.#tail);
    all.set(samples, this.#tail.length);
    const whole = all.length - (all.length % FRAME_SAMPLES);
    this.#tail = all.slice(whole); // before enqueue: onStart may send (and fire marks) at once
    if (whole > 0) this.enqueue(all.subarray(0, whole));
  }

  /** `fire` runs once everything queued so far has been played (or dropped by clear). */
  mark(fire: (reason: 'played' | 'cleared') => void): void {
    if (this.#tail.length > 0) {
      this.enqueue(this.#tail);
      this.#tail = new Int16Array(0);
    }
    this.#marks.push({ at: this.#played + this.#frames.length, fire });
  }

  /** The next frame to send, or undefined when nothing is queued. */
  next(): Int16Array | undefined {
    const f = this.#frames.shift();
    if (f) this.#played++;
    while (this.#marks.length > 0 && this.#marks[0]!.at <= this.#played) this.#marks.shift()!.fire('played');
    return f;
  }

  /** Drops everything queued (barge-in), firing pending marks; returns how many frames were dropped. */
  clear(): number {
    const n = this.#frames.length;
    this.#frames.length = 0;
    this.#tail = new Int16Array(0);
    for (const m of this.#marks.splice(0)) m.fire('cleared');
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
