import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import { decodeG711, encodeG711 } from '../../../src/media/g711.ts';

const { alaw, mulaw } = alawmulaw as unknown as {
  alaw: { decode(x: Uint8Array): Int16Array; encode(x: Int16Array): Uint8Array };
  mulaw: { decode(x: Uint8Array): Int16Array; encode(x: Int16Array): Uint8Array };
};
const CODES = Uint8Array.from({ length: 256 }, (_, i) => i);
const ALL = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

describe('G.711 against the reference (ITU-T G.711 / G.191 g711.c)', () => {
  it('reference values of the decode tables', () => {
    const u = decodeG711('PCMU', Uint8Array.of(0x00, 0x7f, 0x80, 0xff, 0x0f, 0xf0));
    expect([...u]).toEqual([-32124, 0, 32124, 0, -16764, 120]);
    const a = decodeG711('PCMA', Uint8Array.of(0xd5, 0x55, 0x2a, 0xaa, 0x80, 0x00));
    expect([...a]).toEqual([8, -8, -32256, 32256, 5504, -5504]);
  });

  it('silence and full scale encode to the reference codes', () => {
    expect([...encodeG711('PCMU', Int16Array.of(0, 32767, -32768, 8, -8))]).toEqual([
      0xff, 0x80, 0x00, 0xfe, 0x7e,
    ]);
    expect([...encodeG711('PCMA', Int16Array.of(0, 32767, -32768, 8, -8))]).toEqual([
      0xd5, 0xaa, 0x2a, 0xd5, 0x55,
    ]);
  });

  it('decoding agrees with alawmulaw on all 256 codes of each law', () => {
    expect([...decodeG711('PCMA', CODES)]).toEqual([...alaw.decode(CODES)]);
    expect([...decodeG711('PCMU', CODES)]).toEqual([...mulaw.decode(CODES)]);
  });

  it('every code survives decode then encode (mu-law -0 becomes +0)', () => {
    const a = encodeG711('PCMA', decodeG711('PCMA', CODES));
    expect([...a]).toEqual([...CODES]);
    const u = encodeG711('PCMU', decodeG711('PCMU', CODES));
    expect([...u].filter((c, i) => c !== i)).toEqual([0xff]); // 0x7f (-0) encodes as 0xff (+0)
  });

  it('encoding picks the nearest level: |x - decode(encode(x))| stays within half a quantisation step', () => {
    for (const codec of ['PCMU', 'PCMA'] as const) {
      const back = decodeG711(codec, encodeG711(codec, ALL));
      for (let i = 0; i < ALL.length; i += 7) {
        const x = ALL[i]!;
        const err = Math.abs(x - back[i]!);
        const step = Math.max(16, Math.abs(x) / 16); // segments double the step every octave
        expect(err, `${codec} ${x}`).toBeLessThanOrEqual(codec === 'PCMU' ? step + 132 : step + 8);
      }
    }
  });

  it('alawmulaw encodes 127 A-law / 381 mu-law inputs one step away from the reference (why we use tables)', () => {
    const diff = (a: Uint8Array, b: Uint8Array) => a.reduce((n, v, i) => n + (v !== b[i] ? 1 : 0), 0);
    expect(diff(encodeG711('PCMA', ALL), alaw.encode(ALL))).toBe(127);
    expect(diff(encodeG711('PCMU', ALL), mulaw.encode(ALL))).toBe(381);
  });
});
