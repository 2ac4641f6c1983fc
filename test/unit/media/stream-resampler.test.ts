import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resample } from '../../../src/media/resample.ts';
import { StreamResampler } from '../../../src/media/stream-resampler.ts';
import { concatSamples, speechLike } from '../../helpers/audio.ts';

const tone = (hz: number, rate: number, seconds: number, amp = 10000) =>
  Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)),
  );

const rms = (x: Int16Array, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
};

describe('StreamResampler (24 kHz TTS pcm -> 8 kHz)', () => {
  const clip = speechLike(24000, 1.3, 9);
  const whole = resample(clip, 24000, 8000);

  it('streamed in byte chunks of any size (odd ones too) equals the one-shot resampler exactly', () => {
    const bytes = new Uint8Array(clip.buffer, clip.byteOffset, clip.byteLength);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 40 }), (sizes) => {
        const r = new StreamResampler(24000, 8000);
        const parts: Int16Array[] = [];
        let o = 0;
        for (let i = 0; o < bytes.length; i++) {
          const n = sizes[i % sizes.length]!;
          parts.push(r.pushBytes(bytes.subarray(o, o + n)));
          o += n;
        }
        parts.push(r.flush());
        expect(concatSamples(...parts)).toEqual(whole);
      }),
      { numRuns: 60 },
    );
  });

  it('holds back only the filter look-ahead while streaming', () => {
    const r = new StreamResampler(24000, 8000);
    const out = r.push(clip.subarray(0, 2400)); // 100 ms in
    expect(out.length).toBeGreaterThanOrEqual(800 - 20);
    expect(out.length).toBeLessThanOrEqual(800);
  });

  it('passes 1 kHz and removes 5 kHz, which naive decimation folds to 3 kHz', () => {
    const pass = new StreamResampler(24000, 8000);
    const a = concatSamples(pass.push(tone(1000, 24000, 0.5)), pass.flush());
    expect(20 * Math.log10(rms(a, 200, 3800) / rms(tone(1000, 8000, 0.5), 200, 3800))).toBeGreaterThan(-0.5);
    const stop = new StreamResampler(24000, 8000);
    const b = concatSamples(stop.push(tone(5000, 24000, 0.5)), stop.flush());
    expect(20 * Math.log10(rms(b, 200, 3800) / (10000 / Math.SQRT2))).toBeLessThan(-50);
    const naive = tone(5000, 24000, 0.5).filter((_, i) => i % 3 === 0);
    expect(20 * Math.log10(rms(naive) / (10000 / Math.SQRT2))).toBeGreaterThan(-1);
  });

  it('refuses a non-integer factor', () => {
    expect(() => new StreamResampler(22050, 8000)).toThrow(/integer/);
  });
});
