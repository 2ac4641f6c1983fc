/**
 * Band-limited resampling by windowed-sinc interpolation (Blackman window, 16 zero crossings each side).
 * Going down (22,050 Hz -> 8,000 Hz) the low-pass sits at 0.95 x the new Nyquist, so nothing above
 * 3.8 kHz folds back into the telephone band (plain decimation or linear interpolation would alias).
 */
export function resample(input: Int16Array, inRate: number, outRate: number): Int16Array {
  if (inRate === outRate) return input.slice();
  const ratio = outRate / inRate;
  const cutoff = Math.min(1, ratio) * 0.95; // as a fraction of the input Nyquist
  const zeros = 16;
  const half = Math.ceil(zeros / cutoff); // kernel half-width in input samples
  const outLength = Math.floor((input.length * outRate) / inRate);
  const out = new Int16Array(outLength);
  for (let n = 0; n < outLength; n++) {
    const t = n / ratio;
    const center = Math.floor(t);
    let acc = 0;
    for (let k = center - half + 1; k <= center + half; k++) {
      if (k < 0 || k >= input.length) continue;
      const x = t - k;
      const w = x / half; // -1..1 across the kernel
      if (w <= -1 || w >= 1) continue;
      const blackman = 0.42 + 0.5 * Math.cos(Math.PI * w) + 0.08 * Math.cos(2 * Math.PI * w);
      const arg = Math.PI * cutoff * x;
      const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
      acc += input[k]! * cutoff * sinc * blackman;
    }
    out[n] = Math.max(-32768, Math.min(32767, Math.round(acc)));
  }
  return out;
}
