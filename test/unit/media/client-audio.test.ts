import { describe, expect, it } from 'vitest';
import {
  base64AudioMs,
  clientAudioProblem,
  l16Samples,
  samplesAt8k,
} from '../../../src/media/client-audio.ts';
import { encodeG711 } from '../../../src/media/g711.ts';

describe('client audio (what WebSocket clients send to be played)', () => {
  it('l16 is little-endian signed 16-bit, also from an unaligned view', () => {
    const bytes = new Uint8Array([0xff, 0x01, 0x02, 0x80, 0x00, 0x7f]);
    expect([...l16Samples(bytes)]).toEqual([0x01ff, -32766, 0x7f00]);
    expect([...l16Samples(bytes.subarray(1, 5))]).toEqual([0x0201, 0x0080]);
  });

  it('duration from the base64 length alone: 1 s of 8 kHz G.711, of 24 kHz l16', () => {
    expect(base64AudioMs((8000 * 4) / 3, 'pcmu', 8000)).toBe(1000);
    expect(base64AudioMs((48000 * 4) / 3, 'l16', 24000)).toBe(1000);
  });

  it('refuses G.711 at other rates and odd l16 byte counts', () => {
    expect(clientAudioProblem('pcma', 16000, new Uint8Array(2))).toBe('G.711 is 8000 Hz');
    expect(clientAudioProblem('l16', 16000, new Uint8Array(3))).toMatch(/odd byte count/);
    expect(clientAudioProblem('l16', 24000, new Uint8Array(4))).toBeUndefined();
  });

  it('8 kHz G.711 decodes with its own law', () => {
    const pcm = Int16Array.from([0, 1000, -1000, 8000]);
    const alaw = samplesAt8k('pcma', encodeG711('PCMA', pcm));
    const ulaw = samplesAt8k('pcmu', encodeG711('PCMU', pcm));
    expect([...alaw].map((v, i) => Math.abs(v - pcm[i]!) < 300)).toEqual([true, true, true, true]);
    expect([...ulaw].map((v, i) => Math.abs(v - pcm[i]!) < 300)).toEqual([true, true, true, true]);
    expect(alaw).not.toEqual(samplesAt8k('pcmu', encodeG711('PCMA', pcm)));
  });
});
