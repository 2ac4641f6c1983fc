import { readFileSync } from 'node:fs';
import { joinSamples } from '../../src/media/samples.ts';
import { readWav, wavHeader } from '../../src/media/wav.ts';

/** A deterministic speech-like signal: syllables of voiced tones (with harmonics) and pauses. */
export function speechLike(rate: number, seconds: number, seed: number): Int16Array {
  let s = seed >>> 0;
  const rnd = () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out = new Int16Array(Math.round(rate * seconds));
  let i = 0;
  while (i < out.length) {
    const len = Math.round(rate * (0.12 + rnd() * 0.2));
    const pitch = 120 + rnd() * 250;
    const amp = 4000 + rnd() * 12000;
    for (let k = 0; k < len && i + k < out.length; k++) {
      const env = Math.sin((Math.PI * k) / len) ** 2;
      const t = k / rate;
      const v =
        Math.sin(2 * Math.PI * pitch * t) +
        0.5 * Math.sin(4 * Math.PI * pitch * t) +
        0.25 * Math.sin(6 * Math.PI * pitch * t);
      out[i + k] = Math.round((amp * env * v) / 1.75);
    }
    i += len + Math.round(rate * (0.04 + rnd() * 0.2));
  }
  return out;
}

export function wavFile(samples: Int16Array, rate: number): Buffer {
  return Buffer.concat([
    wavHeader(rate, 1, samples.byteLength),
    Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength),
  ]);
}

export function readWavFile(path: string): { rate: number; samples: Int16Array } {
  const w = readWav(readFileSync(path));
  if (!w.ok) throw new Error(`${path}: ${w.error}`);
  return { rate: w.value.sampleRate, samples: w.value.samples };
}

/** 20 ms RMS envelope. */
export function envelope(x: Int16Array, rate: number): number[] {
  const n = (rate * 20) / 1000;
  const out: number[] = [];
  for (let i = 0; i + n <= x.length; i += n) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += x[i + k]! ** 2;
    out.push(Math.sqrt(sum / n));
  }
  return out;
}

function pearson(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  if (n < 10) return 0;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < n; i++) {
    num += (a[i]! - ma) * (b[i]! - mb);
    da += (a[i]! - ma) ** 2;
    db += (b[i]! - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : 0;
}

/**
 * Best correlation of two 20 ms envelopes over lags 0..maxLagMs (3 s) of the recording (robust to G.711,
 * jitter-buffer delay and leading silence), with the lag in ms.
 */
export function envelopeCorrelation(
  recorded: Int16Array,
  reference: Int16Array,
  rate = 8000,
  maxLagMs = 3000,
): { corr: number; lagMs: number } {
  const a = envelope(recorded, rate);
  const b = envelope(reference, rate);
  let best = { corr: 0, lagMs: 0 };
  for (let lag = 0; lag < Math.min(maxLagMs / 20, Math.max(1, a.length - 10)); lag++) {
    const c = pearson(a.slice(lag), b);
    if (c > best.corr) best = { corr: c, lagMs: lag * 20 };
  }
  return best;
}

/** Joins sample arrays end to end. */
export function concatSamples(...parts: Int16Array[]): Int16Array {
  return joinSamples(parts);
}

/** The whole 20 ms frames (160 samples at 8 kHz) of a signal, as views. */
export function frames20ms(x: Int16Array): Int16Array[] {
  const out: Int16Array[] = [];
  for (let i = 0; i + 160 <= x.length; i += 160) out.push(x.subarray(i, i + 160));
  return out;
}
