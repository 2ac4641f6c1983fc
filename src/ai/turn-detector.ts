import { joinSamples } from '../media/samples.ts';

/**
 * End-of-turn detection over 20 ms frames already classified by a VAD. Pure (no timers: time is counted in
 * frames). The caller has finished when speech of at least `minSpeechMs` is followed by `endSilenceMs` of
 * silence; an utterance is cut at `maxFrames` (CALL_CENTER_BUFFER_SIZE, 500 = 10 s; the original's 120 =
 * 2.4 s was its whole turn-taking, with no VAD, and splits ordinary questions in two) so
 * one turn never grows without bound.
 */
export interface TurnOptions {
  readonly endSilenceMs: number;
  readonly minSpeechMs: number;
  /**
   * Speech that interrupts our own playback (barge-in): shorter than a turn, so the caller is not talked
   * over, long enough that a click does not cut the reply.
   */
  readonly bargeInMs: number;
  readonly maxFrames: number;
  /** Audio kept from before the speech started, so the first syllable is not clipped. */
  readonly prefixMs: number;
}

export const DEFAULT_TURN: TurnOptions = {
  endSilenceMs: 500,
  minSpeechMs: 200,
  bargeInMs: 60,
  maxFrames: 500,
  prefixMs: 200,
};

export type TurnEvent =
  /** `bargeInMs` of speech: the caller is starting to talk (barge in on our playback). */
  | { readonly type: 'speech.onset' }
  /** `minSpeechMs` of speech: someone surely talks (a turn is coming). */
  | { readonly type: 'speech.started' }
  | {
      readonly type: 'turn.ended';
      readonly audio: Int16Array;
      readonly speechMs: number;
      readonly reason: 'silence' | 'max-length';
    };

const FRAME_MS = 20;

export class TurnDetector {
  readonly #o: TurnOptions;
  #frames: Int16Array[] = [];
  #prefix: Int16Array[] = [];
  #speechFrames = 0;
  #silentRun = 0;
  #inTurn = false;
  #announced = false;
  #onset = false;

  constructor(options: Partial<TurnOptions> = {}) {
    this.#o = { ...DEFAULT_TURN, ...options };
  }

  push(frame: Int16Array, speech: boolean): TurnEvent[] {
    const events: TurnEvent[] = [];
    if (!this.#inTurn) {
      if (!speech) {
        this.#prefix.push(frame);
        if (this.#prefix.length * FRAME_MS > this.#o.prefixMs) this.#prefix.shift();
        return events;
      }
      this.#inTurn = true;
      this.#frames = [...this.#prefix];
      this.#prefix = [];
    }
    this.#frames.push(frame);
    if (speech) {
      this.#speechFrames++;
      this.#silentRun = 0;
    } else {
      this.#silentRun++;
    }
    if (!this.#onset && this.#speechFrames * FRAME_MS >= this.#o.bargeInMs) {
      this.#onset = true;
      events.push({ type: 'speech.onset' });
    }
    if (!this.#announced && this.#speechFrames * FRAME_MS >= this.#o.minSpeechMs) {
      this.#announced = true;
      events.push({ type: 'speech.started' });
    }
    if (this.#silentRun * FRAME_MS >= this.#o.endSilenceMs) {
      // a blip shorter than minSpeechMs was noise, not a turn
      if (this.#speechFrames * FRAME_MS >= this.#o.minSpeechMs) events.push(this.#end('silence'));
      else this.#reset();
    } else if (this.#frames.length >= this.#o.maxFrames) {
      events.push(this.#end('max-length'));
    }
    return events;
  }

  #end(reason: 'silence' | 'max-length'): TurnEvent {
    const audio = joinSamples(this.#frames);
    const speechMs = this.#speechFrames * FRAME_MS;
    this.#reset();
    return { type: 'turn.ended', audio, speechMs, reason };
  }

  #reset(): void {
    this.#frames = [];
    this.#speechFrames = 0;
    this.#silentRun = 0;
    this.#inTurn = false;
    this.#announced = false;
    this.#onset = false;
  }
}
