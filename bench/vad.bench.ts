// VAD comparison: WebRTC's VAD (fvad WASM, mode 2) against the energy detector (-40 dBFS), on 2 s speech-like
// utterances with 2 s pauses, mixed with white noise at three levels. Ground truth is the clean signal's frame energy. Printed:
// hit rate on speech frames, false alarms on pause frames, and CPU per 20 ms frame.
import { performance } from 'node:perf_hooks';
import { createWebRtcVad, EnergyVad, type Vad } from '../src/ai/vad.ts';
import { speechLike } from '../test/helpers/audio.ts';

const RATE = 8000;
const SECONDS = Number(process.env.BENCH_VAD_SECONDS ?? 60);

function noise(n: number, dbfs: number, seed: number): Int16Array {
  let s = seed >>> 0;
  const amp = 32768 * 10 ** (dbfs / 20) * Math.sqrt(3); // uniform noise with this RMS
  return Int16Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return Math.round((s / 2 ** 32 - 0.5) * 2 * amp);
  });
}

function frameRms(x: Int16Array, i: number): number {
  let sum = 0;
  for (let k = i; k < i + 160; k++) sum += x[k]! * x[k]!;
  return Math.sqrt(sum / 160);
}

function score(vad: Vad, mixed: Int16Array, truth: (boolean | undefined)[]) {
  let hits = 0;
  let speech = 0;
  let alarms = 0;
  let pauses = 0;
  const t0 = performance.now();
  for (let f = 0; f < truth.length; f++) {
    const said = vad.isSpeech(mixed.subarray(f * 160, f * 160 + 160));
    if (truth[f] === true) {
      speech++;
      if (said) hits++;
    } else if (truth[f] === false) {
      pauses++;
      if (said) alarms++;
    }
  }
  const usPerFrame = ((performance.now() - t0) * 1000) / truth.length;
  return { hit: hits / speech, falseAlarm: alarms / pauses, usPerFrame };
}

export async function runVadBench(): Promise<void> {
  // utterances of 2 s separated by 2 s pauses, as in a conversation
  const cycles = Math.max(1, Math.round(SECONDS / 4));
  const clean = new Int16Array(cycles * 4 * RATE);
  for (let c = 0; c < cycles; c++) clean.set(speechLike(RATE, 2, 42 + c), c * 4 * RATE);
  const frames = Math.floor(clean.length / 160);
  // true: a frame of speech (clean frame above -45 dBFS); false: a pause frame at least 300 ms after the
  // utterance (a VAD's hangover is allowed); undefined: not scored (gaps between syllables, hangover)
  const truth = Array.from({ length: frames }, (_, f) => {
    const inCycle = f % 200;
    if (inCycle < 100) return frameRms(clean, f * 160) > 32768 * 10 ** (-45 / 20) ? true : undefined;
    return inCycle >= 115 ? false : undefined;
  });
  console.log(
    `\nVAD comparison: ${SECONDS} s of speech-like audio, ${frames} frames, ${truth.filter((t) => t === true).length} speech, ${truth.filter((t) => t === false).length} pause`,
  );
  console.log('noise dBFS | detector         | speech hit | false alarm | us/frame');
  for (const level of [-60, -45, -35]) {
    const n = noise(clean.length, level, 7);
    const mixed = Int16Array.from(clean, (v, i) => Math.max(-32768, Math.min(32767, v + n[i]!)));
    const webrtc = await createWebRtcVad(2);
    const rows: [string, ReturnType<typeof score>][] = [
      ['webrtc (fvad, 2)', score(webrtc, mixed, truth)],
      ['energy (-40 dBFS)', score(new EnergyVad(), mixed, truth)],
    ];
    webrtc.free();
    for (const [name, r] of rows) {
      console.log(
        `${String(level).padStart(10)} | ${name.padEnd(16)} | ${(r.hit * 100).toFixed(1).padStart(9)}% | ${(r.falseAlarm * 100).toFixed(1).padStart(10)}% | ${r.usPerFrame.toFixed(2).padStart(8)}`,
      );
    }
  }
}
