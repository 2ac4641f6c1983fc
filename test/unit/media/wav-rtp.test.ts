import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Result } from '../../../src/kernel/result.ts';
import { encodeG711 } from '../../../src/media/g711.ts';
import { resample } from '../../../src/media/resample.ts';
import { readWav, wavHeader } from '../../../src/media/wav.ts';
import { buildRtp, parseRtp, seqDelta } from '../../../src/rtp/packet.ts';

const v = <T>(r: Result<T, string>): T => {
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

function wav(format: number, channels: number, rate: number, bits: number, body: Uint8Array): Uint8Array {
  const h = wavHeader(rate, channels, body.length);
  const v = new DataView(h.buffer);
  v.setUint16(20, format, true);
  v.setUint16(34, bits, true);
  v.setUint16(32, (channels * bits) / 8, true);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}
const tone = (rate: number, hz: number, seconds: number, amp = 10000) =>
  Int16Array.from({ length: Math.round(rate * seconds) }, (_, i) =>
    Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)),
  );
const rms = (x: Int16Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);

describe('WAV reading', () => {
  it('16-bit, 8-bit unsigned, 24-bit, float, stereo, A-law and mu-law all come out as 16-bit mono', () => {
    const s16 = Int16Array.of(1000, -1000, 32767, -32768);
    expect([...v(readWav(wav(1, 1, 8000, 16, new Uint8Array(s16.buffer)))).samples]).toEqual([...s16]);
    expect([...v(readWav(wav(1, 1, 8000, 8, Uint8Array.of(128, 255, 0)))).samples]).toEqual([
      0,
      127 << 8,
      -32768,
    ]);
    expect([...v(readWav(wav(1, 1, 8000, 24, Uint8Array.of(0, 0x10, 0x20, 0, 0, 0x80)))).samples]).toEqual([
      0x2010, -32768,
    ]);
    const f = new Float32Array([0.5, -1]);
    expect([...v(readWav(wav(3, 1, 8000, 32, new Uint8Array(f.buffer)))).samples]).toEqual([16384, -32767]);
    const stereo = Int16Array.of(100, 300, -100, -300);
    expect([...v(readWav(wav(1, 2, 44100, 16, new Uint8Array(stereo.buffer)))).samples]).toEqual([200, -200]);
    expect([...v(readWav(wav(7, 1, 8000, 8, encodeG711('PCMU', Int16Array.of(0, 1000))))).samples]).toEqual([
      0, 988,
    ]);
    expect(v(readWav(wav(6, 1, 8000, 8, encodeG711('PCMA', Int16Array.of(0))))).sampleRate).toBe(8000);
  });

  it('a file cut short keeps what it has; garbage is a typed error', () => {
    const full = wav(1, 1, 8000, 16, new Uint8Array(new Int16Array(100).buffer));
    expect(v(readWav(full.subarray(0, 44 + 50))).samples.length).toBe(25);
    expect(readWav(Uint8Array.of(1, 2, 3)).ok).toBe(false);
    expect(readWav(wav(85, 1, 8000, 16, new Uint8Array(4))).ok).toBe(false); // MP3-in-WAV
  });
});

describe('WAV reading never throws', () => {
  it('a file cut anywhere (inside fmt included) is an error or what it holds, never an exception', () => {
    const full = wav(0xfffe, 2, 22050, 16, new Uint8Array(400));
    for (let cut = 0; cut <= full.length; cut++) {
      const r = readWav(full.subarray(0, cut));
      if (cut < 36) expect(r.ok).toBe(false);
    }
    expect(readWav(full.subarray(0, 30))).toEqual({ ok: false, error: 'file ends inside its fmt chunk' });
  });

  it('arbitrary bytes after a RIFF/WAVE header (fast-check)', () => {
    const head = new TextEncoder().encode('RIFF\0\0\0\0WAVE');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => {
        const data = new Uint8Array(head.length + tail.length);
        data.set(head);
        data.set(tail, head.length);
        readWav(data);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('resampling', () => {
  it('22,050 -> 8,000 Hz keeps a 1 kHz tone and removes a 6 kHz one (no aliasing to 2 kHz)', () => {
    const keep = resample(tone(22050, 1000, 0.5), 22050, 8000);
    expect(keep.length).toBe(4000);
    expect(rms(keep.subarray(200, 3800)) / (10000 / Math.SQRT2)).toBeGreaterThan(0.95);
    const alias = resample(tone(22050, 6000, 0.5), 22050, 8000);
    expect(rms(alias.subarray(200, 3800))).toBeLessThan(10000 * 0.01); // -40 dB
  });
  it('upsampling 8 -> 24 kHz and back is close to the original', () => {
    const x = tone(8000, 440, 0.25);
    const y = resample(resample(x, 8000, 24000), 24000, 8000);
    const diff = Int16Array.from(x.subarray(100, 1900), (v, i) => v - y[i + 100]!);
    expect(rms(diff)).toBeLessThan(150);
  });
});

describe('RTP packets (RFC 3550)', () => {
  it('round-trips; strips CSRCs, extension and padding; rejects version != 2', () => {
    const payload = Uint8Array.from({ length: 160 }, (_, i) => i);
    const built = buildRtp({
      marker: true,
      payloadType: 8,
      sequence: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
      payload,
    });
    expect(v(parseRtp(built))).toMatchObject({
      marker: true,
      payloadType: 8,
      sequence: 65535,
      timestamp: 0xfffffff0,
      ssrc: 0xdeadbeef,
    });
    // V=2, P=1, X=1, CC=1: CSRC, a one-word extension, 3 bytes of padding
    const fancy = Uint8Array.of(
      0xb1,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      2,
      9,
      9,
      9,
      9,
      0xbe,
      0xde,
      0,
      1,
      7,
      7,
      7,
      7,
      0xaa,
      0xbb,
      0,
      0,
      3,
    );
    expect([...v(parseRtp(fancy)).payload]).toEqual([0xaa, 0xbb]);
    expect(parseRtp(Uint8Array.of(0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).ok).toBe(false);
    expect(parseRtp(Uint8Array.of(0x80, 0)).ok).toBe(false);
  });
  it('sequence arithmetic wraps', () => {
    expect(seqDelta(65535, 0)).toBe(1);
    expect(seqDelta(0, 65535)).toBe(-1);
    expect(seqDelta(100, 40000)).toBe(-25636);
  });
});
