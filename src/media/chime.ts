import { FRAME_SAMPLES } from './playout-queue.ts';

/**
 * The greeting a fresh install plays when no greeting file is configured: a two-note chime (E5, then C5,
 * each a bell-like decaying tone) at 8 kHz, about -14 dBFS peak, 0.9 s, synthesised here rather than
 * recorded (no third-party audio ships with the project). Whole 20 ms frames, silence at both ends.
 */
export function chime(): Int16Array {
  const rate = 8000;
  const notes = [
    { hz: 659.25, at: 0.05, length: 0.35 },
    { hz: 523.25, at: 0.3, length: 0.55 },
  ];
  const total = Math.ceil((0.9 * rate) / FRAME_SAMPLES) * FRAME_SAMPLES;
  const out = new Float64Array(total);
  for (const n of notes) {
    const start = Math.round(n.at * rate);
    const len = Math.round(n.length * rate);
    for (let i = 0; i < len && start + i < total; i++) {
      const t = i / rate;
      const attack = Math.min(1, t / 0.01); // 10 ms rise: no click
      const decay = Math.exp(-t / (n.length / 4));
      const tail = Math.min(1, (len - i) / (0.02 * rate)); // 20 ms fade to zero
      // a fundamental and a softer octave, as a bell has
      const tone = Math.sin(2 * Math.PI * n.hz * t) + 0.3 * Math.sin(4 * Math.PI * n.hz * t);
      out[start + i]! += 0.16 * attack * decay * tail * tone;
    }
  }
  return Int16Array.from(out, (v) => Math.round(Math.max(-1, Math.min(1, v)) * 32767));
}
