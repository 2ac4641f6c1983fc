/** 20 ms of 8 kHz audio. */
export const FRAME_SAMPLES = 160;

/** Audio queued as given (never copied: a greeting shared by every call stays one array). */
interface Segment {
  readonly samples: Int16Array;
  /** Next sample to play. */
  at: number;
}

/**
 * What a call will play, in order: the greeting, then audio from clients or the AI, played in 20 ms frames
 * (the last one padded with silence). It can be flushed at once (barge-in) and counts what was really
 * played, so a client can tell where playback stands (the playout clock).
 *
 * Queued arrays are kept by reference, not copied, and each frame handed out is a view of them: the
 * caller must not change an array after queueing it. (Copying cost +300-500 MB per call for a 200 MB
 * greeting.) `queuedFrames` counts what is queued, for the per-call cap the edges enforce.
 */
export class PlayoutQueue {
  readonly #segments: Segment[] = [];
  #queued = 0;
  #played = 0;
  /** Samples of a stream that did not fill a whole frame yet (appendStream). */
  #tail: Int16Array = new Int16Array(0);
  /** Marks fire when the frames queued before them have been played, or when a clear drops them. */
  #marks: Array<{ at: number; fire: (reason: 'played' | 'cleared') => void }> = [];
  /** Padded last frames of segments (the only copies made): two, so a frame outlives the next call. */
  readonly #pads = [new Int16Array(FRAME_SAMPLES), new Int16Array(FRAME_SAMPLES)];
  #padTurn = 0;

  /** Cap on what clients may queue (MAX_QUEUED_AUDIO_S); the edges ask `fits()` before queueing. */
  limitMs = Number.POSITIVE_INFINITY;

  /** Whether `ms` more audio stays within `limitMs`. */
  fits(ms: number): boolean {
    return this.queuedMs + ms <= this.limitMs;
  }

  /** Called when audio is queued into an empty queue (a talkspurt may start before the next tick). */
  onStart: (() => void) | undefined;

  /** Queues 8 kHz 16-bit mono samples (kept by reference). */
  enqueue(samples: Int16Array): void {
    if (samples.length === 0) return;
    const wasEmpty = this.#queued === 0;
    this.#segments.push({ samples, at: 0 });
    this.#queued += Math.ceil(samples.length / FRAME_SAMPLES);
    if (wasEmpty) this.onStart?.();
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
    this.#marks.push({ at: this.#played + this.#queued, fire });
  }

  /**
   * The next frame to send, or undefined when nothing is queued. The frame is a view: valid until the
   * call after next (a frame sent early is recorded one tick later).
   */
  next(): Int16Array | undefined {
    let frame: Int16Array | undefined;
    const head = this.#segments[0];
    if (head) {
      const end = head.at + FRAME_SAMPLES;
      if (end <= head.samples.length) frame = head.samples.subarray(head.at, end);
      else {
        this.#padTurn ^= 1;
        frame = this.#pads[this.#padTurn]!;
        frame.fill(0);
        frame.set(head.samples.subarray(head.at));
      }
      head.at = end;
      if (head.at >= head.samples.length) this.#segments.shift();
      this.#queued--;
      this.#played++;
    }
    while (this.#marks.length > 0 && this.#marks[0]!.at <= this.#played) this.#marks.shift()!.fire('played');
    return frame;
  }

  /** Drops everything queued (barge-in), firing pending marks; returns how many frames were dropped. */
  clear(): number {
    const n = this.#queued;
    this.#segments.length = 0;
    this.#queued = 0;
    this.#tail = new Int16Array(0);
    for (const m of this.#marks.splice(0)) m.fire('cleared');
    return n;
  }

  get queuedFrames(): number {
    return this.#queued;
  }

  /** Audio waiting to be played, in ms (the stream's unfinished frame included). */
  get queuedMs(): number {
    return this.#queued * 20 + (this.#tail.length / 8000) * 1000;
  }

  get playedFrames(): number {
    return this.#played;
  }

  get playedMs(): number {
    return this.#played * 20;
  }
}
