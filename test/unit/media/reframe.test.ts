import { describe, expect, it } from 'vitest';
import { Reframer } from '../../../src/media/reframe.ts';
import { Hearing, mediaTimeout, watchdogPeriod } from '../../../src/rtp/watchdog.ts';

describe('Reframer: audio in pieces of any length, out in whole frames', () => {
  it.each<[string, number[], number[]]>([
    ['20 ms pieces pass through', [160, 160], [160, 160]],
    [
      '30 ms pieces: a frame, then a frame and a half carried',
      [240, 240, 240, 240],
      [160, 160, 160, 160, 160, 160],
    ],
    ['10 ms pieces: a frame every second piece', [80, 80, 80], [160]],
  ])('%s', (_, pieces, want) => {
    const r = new Reframer(160);
    const out: Int16Array[] = [];
    let n = 0;
    for (const len of pieces)
      r.push(
        Int16Array.from({ length: len }, () => n++),
        (f) => out.push(f),
      );
    expect(out.map((f) => f.length)).toEqual(want);
    // the samples come out in order, none lost or repeated
    expect(out.flatMap((f) => [...f])).toEqual(Array.from({ length: want.length * 160 }, (_, i) => i));
  });

  it('hands out copies: the scratch buffer a piece came in may be reused', () => {
    const r = new Reframer(160);
    const scratch = new Int16Array(160).fill(7);
    const out: Int16Array[] = [];
    r.push(scratch, (f) => out.push(f));
    scratch.fill(0);
    expect(out[0]![0]).toBe(7);
  });
});

describe('mediaTimeout: when a call has heard too little', () => {
  const t = { inactivityMs: 60_000, startTimeoutMs: 10_000 };
  it.each<[string, { unheardMs: number; expectsRtp: boolean; silentMs: number }, string | undefined]>([
    ['all well', { unheardMs: 0, expectsRtp: true, silentMs: 20 }, undefined],
    [
      'nothing heard since we started sending',
      { unheardMs: 10_001, expectsRtp: true, silentMs: 10_001 },
      'never-heard',
    ],
    ['RTP stopped', { unheardMs: 0, expectsRtp: true, silentMs: 60_001 }, 'inactive'],
    [
      'RTP stopped while on hold: expected',
      { unheardMs: 0, expectsRtp: false, silentMs: 600_000 },
      undefined,
    ],
  ])('%s', (_, s, want) => {
    expect(mediaTimeout(s, t)).toBe(want);
  });

  it('limits of 0 are off, and the watchdog looks a quarter of the shorter limit, at most every second', () => {
    expect(
      mediaTimeout(
        { unheardMs: 1e9, expectsRtp: true, silentMs: 1e9 },
        { inactivityMs: 0, startTimeoutMs: 0 },
      ),
    ).toBeUndefined();
    expect(watchdogPeriod({ inactivityMs: 0, startTimeoutMs: 0 })).toBeUndefined();
    expect(watchdogPeriod({ inactivityMs: 2000, startTimeoutMs: 0 })).toBe(500);
    expect(watchdogPeriod(t)).toBe(1000);
  });
});

describe('Hearing: since when we send unheard, and how long the first sound took', () => {
  it('counts from our first packet, stops at the first heard, and again from a move of the media', () => {
    const h = new Hearing();
    h.started(1000, false);
    expect(h.unheardFor(1500, true)).toBe(500);
    expect(h.unheardFor(1500, false)).toBe(0); // not sending: nothing to judge
    h.heard(1800);
    expect([h.unheardFor(2000, true), h.firstHeardMs]).toEqual([0, 800]);
    h.moved(3000);
    expect(h.unheardFor(3400, true)).toBe(400);
    h.heard(3500);
    expect(h.firstHeardMs).toBe(800); // the first sound's time is kept
  });

  it('a peer heard before we sent is never unheard, and has no first-sound time', () => {
    const h = new Hearing();
    h.started(1000, true);
    expect([h.unheardFor(9000, true), h.firstHeardMs]).toEqual([0, undefined]);
  });
});
