/**
 * A sound played in a loop, one frame at a time (music on hold): each frame is the next `frame` samples,
 * wrapping round to the start. The frame is a scratch buffer, overwritten by the next call.
 */
export class Loop {
  #at = 0;
  readonly #out: Int16Array;

  constructor(
    readonly samples: Int16Array,
    frame: number,
  ) {
    this.#out = new Int16Array(frame);
  }

  next(): Int16Array {
    const out = this.#out;
    const s = this.samples;
    for (let i = 0; i < out.length; i++) {
      out[i] = s[this.#at]!;
      this.#at = (this.#at + 1) % s.length;
    }
    return out;
  }
}
