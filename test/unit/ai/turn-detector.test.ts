import { describe, expect, it } from 'vitest';
import { TurnDetector, type TurnEvent } from '../../../src/ai/turn-detector.js';
import { createWebRtcVad, EnergyVad } from '../../../src/ai/vad.js';
import { concatSamples as concat, frames20ms as frames, speechLike } from '../../helpers/audio.js';

const RATE = 8000;
const silence = (seconds: number) => new Int16Array(Math.round(RATE * seconds));

function run(detector: TurnDetector, vad: { isSpeech(f: Int16Array): boolean }, audio: Int16Array) {
  const events: { at: number; e: TurnEvent }[] = [];
  frames(audio).forEach((f, i) => {
    for (const e of detector.push(f, vad.isSpeech(f))) events.push({ at: i, e });
  });
  return events;
}

describe('TurnDetector', () => {
  it('ends a turn after the configured silence, keeping a prefix before the speech', () => {
    const audio = concat(silence(1), speechLike(RATE, 1, 7), silence(1));
    const events = run(new TurnDetector({ endSilenceMs: 400, prefixMs: 200 }), new EnergyVad(), audio);
    expect(events.map((x) => x.e.type)).toEqual(['speech.onset', 'speech.started', 'turn.ended']);
    // onset after 3 voiced frames (bargeInMs 60), started after 10 (minSpeechMs 200)
    expect(events[1]!.at - events[0]!.at).toBeGreaterThanOrEqual(7);
    const ended = events[2]!;
    if (ended.e.type !== 'turn.ended') throw new Error('unreachable');
    expect(ended.e.reason).toBe('silence');
    // speech starts at frame 50; 400 ms of silence after it ends at frame ~100 + 20
    expect(ended.at).toBeGreaterThanOrEqual(115);
    expect(ended.at).toBeLessThanOrEqual(125);
    // ~200 ms prefix + ~1 s speech + 400 ms silence
    expect(ended.e.audio.length / RATE).toBeGreaterThan(1.4);
    expect(ended.e.audio.length / RATE).toBeLessThan(1.75);
    expect(ended.e.speechMs).toBeGreaterThan(400); // speechLike() has syllable gaps
  });

  it('ignores a blip shorter than minSpeechMs', () => {
    const audio = concat(silence(0.5), speechLike(RATE, 0.06, 3), silence(1));
    const events = run(new TurnDetector({ minSpeechMs: 200 }), new EnergyVad(), audio);
    // loud enough to interrupt our playback, too short to be a turn
    expect(events.map((x) => x.e.type)).toEqual(['speech.onset']);
  });

  it('cuts a long utterance at maxFrames and carries on with a new turn', () => {
    const audio = concat(speechLike(RATE, 3, 11), silence(1));
    const events = run(new TurnDetector({ maxFrames: 60, endSilenceMs: 300 }), new EnergyVad(), audio);
    const ends = events.filter((x) => x.e.type === 'turn.ended');
    expect(ends.length).toBeGreaterThanOrEqual(3);
    const first = ends[0]!.e;
    if (first.type !== 'turn.ended') throw new Error('unreachable');
    expect(first.reason).toBe('max-length');
    expect(first.audio.length).toBe(60 * 160);
  });
});

describe('WebRTC VAD (fvad wasm)', () => {
  it('tells speech-like audio from silence and low noise', async () => {
    const vad = await createWebRtcVad(2);
    try {
      const speech = frames(speechLike(RATE, 2, 5)).filter((f) => vad.isSpeech(f)).length;
      vad.reset();
      let seed = 1;
      const noise = silence(2).map(() => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return ((seed >> 8) % 61) - 30; // about -63 dBFS
      });
      const quiet = frames(noise).filter((f) => vad.isSpeech(f)).length;
      expect(speech).toBeGreaterThan(60); // of 100 frames
      expect(quiet).toBeLessThan(10); // the VAD adapts over its first frames
    } finally {
      vad.free();
    }
  });
});
