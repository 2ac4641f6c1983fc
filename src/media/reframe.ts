/**
 * Cuts audio arriving in pieces of any length (a peer's 30 ms packets, 10 ms ones) into frames of `frame`
 * samples, carrying the remainder to the next piece. A piece that is exactly one frame with nothing
 * carried goes through as a copy, without a second buffer.
 */
export class Reframer {
  #carry = new Int16Array(0);

  constructor(readonly frame: number) {}

  /** Hands each whole frame (a copy the receiver may keep) to `emit`. */
  push(samples: Int16Array, emit: (frame: Int16Array) => void): void {
    const n = this.frame;
    if (samples.length === n && this.#carry.length === 0) {
      emit(samples.slice());
      return;
    }
    const all = new Int16Array(this.#carry.length + samples.length);
    all.set(this.#carry);
    all.set(samples, this.#carry.length);
    let o = 0;
    for (; o + n <= all.length; o += n) emit(all.slice(o, o + n));
    this.#carry = all.slice(o);
  }
}
