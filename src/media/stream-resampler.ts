import { joinSamples } from './samples.ts';

/**
 * Streaming down-sampler by an integer factor (24 kHz TTS `pcm` -> 8 kHz, also 16 or 48 kHz), for audio that
 * arrives in chunks of any size, even split in the middle of a sample. Same band-limited filter as
 * `resample()` (windowed sinc, Blackman, low-pass at 0.95 x the new Nyquist), so the streamed output is
 * sample for sample what the one-shot resampler gives for the whole clip: nothing above 3.8 kHz folds back.
 * It holds back only the filter's look-ahead (about 2 ms at 24 kHz); `flush()` releases it at the end.
 */
export class StreamResampler {
  readonly #factor: number;
  readonly #half: number;
  /** taps for offsets d = -(half-1) .. half-1, index d + half - 1 */
  readonly #taps: Float64Array;
  #buf = new Float64Array(0);
  /** absolute input index of #buf[0] */
  #base = 0;
  #received = 0;
  /** next output index */
  #next = 0;
  #oddByte: number | undefined;

  constructor(inRate: number, outRate: number) {
    if (!Number.isInteger(inRate / outRate) || inRate < outRate) {
      throw new Error(`StreamResampler needs an integer down-sampling factor, not ${inRate} -> ${outRate}`);
    }
    this.#factor = inRate / outRate;
    const cutoff = 0.95 / this.#factor;
    this.#half = Math.ceil(16 / cutoff);
    this.#taps = new Float64Array(2 * this.#half - 1);
    for (let d = -(this.#half - 1); d <= this.#half - 1; d++) {
      const w = d / this.#half;
      const blackman = 0.42 + 0.5 * Math.cos(Math.PI * w) + 0.08 * Math.cos(2 * Math.PI * w);
      const arg = Math.PI * cutoff * d;
      this.#taps[d + this.#half - 1] = cutoff * (arg === 0 ? 1 : Math.sin(arg) / arg) * blackman;
    }
  }

  /** Little-endian s16 bytes as they come off the wire; a trailing odd byte waits for its partner. */
  pushBytes(bytes: Uint8Array): Int16Array {
    let start = 0;
    const pairs: number[] = [];
    if (this.#oddByte !== undefined && bytes.length > 0) {
      pairs.push((((bytes[0]! << 8) | this.#oddByte) << 16) >> 16);
      this.#oddByte = undefined;
      start = 1;
    }
    const n = (bytes.length - start) >> 1;
    const samples = new Int16Array(pairs.length + n);
    if (pairs.length) samples[0] = pairs[0]!;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) samples[pairs.length + i] = view.getInt16(start + 2 * i, true);
    if ((bytes.length - start) % 2 === 1) this.#oddByte = bytes[bytes.length - 1];
    return this.push(samples);
  }

  push(samples: Int16Array): Int16Array {
    const merged = new Float64Array(this.#buf.length + samples.length);
    merged.set(this.#buf);
    merged.set(samples, this.#buf.length);
    this.#buf = merged;
    this.#received += samples.length;
    return this.#emit(false);
  }

  /** The end of the stream: the held-back tail, computed with silence after the last sample. */
  flush(): Int16Array {
    return this.#emit(true);
  }

  #emit(final: boolean): Int16Array {
    const M = this.#factor;
    const h = this.#half;
    const last = final ? Math.floor(this.#received / M) : Math.floor((this.#received - h) / M) + 1;
    const count = Math.max(0, last - this.#next);
    const out = new Int16Array(count);
    for (let i = 0; i < count; i++) {
      const t = (this.#next + i) * M;
      let acc = 0;
      const lo = Math.max(t - (h - 1), 0);
      const hi = Math.min(t + (h - 1), this.#received - 1);
      for (let k = lo; k <= hi; k++) acc += this.#buf[k - this.#base]! * this.#taps[t - k + h - 1]!;
      out[i] = Math.max(-32768, Math.min(32767, Math.round(acc)));
    }
    this.#next += count;
    // keep only what the next output still needs
    const keepFrom = Math.max(this.#base, this.#next * M - (h - 1));
    if (keepFrom > this.#base) {
      this.#buf = this.#buf.slice(keepFrom - this.#base);
      this.#base = keepFrom;
    }
    return out;
  }
}

/**
 * 16-bit little-endian audio at `rate` (an integer multiple of 8 kHz) down to 8 kHz, a quarter second of
 * input at a time with `pause()` awaited in between, so a long clip (a client's minute of 24 kHz audio)
 * never holds the event loop that paces every call's RTP. Same samples as resampling it in one go.
 */
export async function narrowbandInSlices(
  bytes: Uint8Array,
  rate: number,
  pause: () => Promise<void>,
): Promise<Int16Array> {
  const r = new StreamResampler(rate, 8000);
  const parts: Int16Array[] = [];
  const step = rate / 2; // bytes: a quarter second of 16-bit samples
  for (let o = 0; o < bytes.length; o += step) {
    if (o > 0) await pause();
    parts.push(r.pushBytes(bytes.subarray(o, o + step)));
  }
  parts.push(r.flush());
  return joinSamples(parts);
}
