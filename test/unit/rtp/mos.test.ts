import { describe, expect, it } from 'vitest';
import { estimateMos, mosOf, rFactor } from '../../../src/rtp/mos.ts';

const q = (lost: number, rttMs: number | undefined = 0) => ({
  lost,
  received: 1000 - lost,
  rttMs,
  bufferMs: 60,
  packetMs: 20,
});

describe('E-model MOS estimate (ITU-T G.107, simplified)', () => {
  it("a clean G.711 call is near G.107's best narrowband quality (R 93.2 = MOS 4.41)", () => {
    expect(mosOf(93.2)).toBeCloseTo(4.41, 2);
    expect(rFactor(q(0))).toBeCloseTo(93.2 - 0.024 * 80, 6);
    expect(estimateMos(q(0))).toBe(4.37);
  });

  it('loss lowers it as Ie,eff says (Bpl 25.1): 1 % -> 4.28, 5 % -> 3.84, 20 % -> 2.53', () => {
    expect(rFactor(q(10))).toBeCloseTo(91.28 - 95 / 26.1, 6);
    expect(estimateMos(q(10))).toBe(4.28);
    expect(estimateMos(q(50))).toBe(3.84);
    expect(estimateMos(q(200))).toBe(2.53);
  });

  it('delay past 177.3 ms one way costs extra; the curve is bounded to 1..4.5', () => {
    // one way 280 ms against 180 ms (half the RTT, the 60 ms buffer, the 20 ms packet)
    expect(rFactor(q(0, 400)) - rFactor(q(0, 200))).toBeCloseTo(-(0.024 * 100 + 0.11 * (280 - 180)), 6);
    expect(mosOf(-5)).toBe(1);
    expect(mosOf(120)).toBe(4.5);
    // no packets at all: nothing lost, the delay alone
    expect(estimateMos({ lost: 0, received: 0, rttMs: undefined, bufferMs: 60, packetMs: 20 })).toBe(4.37);
  });
});
