import { afterEach, describe, expect, it } from 'vitest';
import { type PacedStream, RtpScheduler } from '../../src/io/media/rtp-scheduler.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const schedulers: RtpScheduler[] = [];
afterEach(async () => {
  await Promise.all(schedulers.splice(0).map((s) => s.close()));
});
/** A scheduler closed after the test (each holds a clock thread). */
const scheduler = (opts?: { precise?: boolean }) => {
  const s = new RtpScheduler(opts);
  schedulers.push(s);
  return s;
};

/** A stream that notes each deadline it was ticked for, and when. */
function stream(): PacedStream & { deadlines: number[]; at: number[] } {
  const deadlines: number[] = [];
  const at: number[] = [];
  return {
    deadlines,
    at,
    tick(deadline: number, now: number) {
      deadlines.push(deadline);
      at.push(now);
    },
  };
}

function expectPaced(s: { deadlines: number[]; at: number[] }, minTicks: number): void {
  expect(s.deadlines.length).toBeGreaterThanOrEqual(minTicks);
  for (let i = 1; i < s.deadlines.length; i++)
    expect(s.deadlines[i]! - s.deadlines[i - 1]!).toBeCloseTo(20, 6);
  // never before its deadline (a quarter of a millisecond of slack is the scheduler's rule)
  for (let i = 0; i < s.at.length; i++) expect(s.at[i]! - s.deadlines[i]!).toBeGreaterThanOrEqual(-0.25);
}

describe('RTP scheduler', () => {
  it('ticks every stream once per 20 ms deadline from its clock thread', async () => {
    const sch = scheduler();
    const streams = [stream(), stream(), stream()];
    for (const s of streams) sch.add(s);
    await wait(400);
    for (const s of streams) expectPaced(s, 15);
    // the beats came from the clock thread (it records how late it woke for each), not from setTimeout
    expect(sch.clockLateness.count).toBeGreaterThan(30);
    // streams are spread over the 1 ms slots: their deadlines differ
    expect(new Set(streams.map((s) => s.deadlines[0]! % 20)).size).toBe(3);
  });

  it('paces on setTimeout alone when asked to (no clock thread)', async () => {
    const sch = scheduler({ precise: false });
    const s = stream();
    sch.add(s);
    await wait(300);
    expectPaced(s, 10);
    expect(sch.clockLateness.count).toBe(0);
  });

  it('stops ticking a removed stream, and ticks nothing once every stream is gone', async () => {
    const sch = scheduler();
    const a = stream();
    const b = stream();
    sch.add(a);
    sch.add(b);
    await wait(100);
    sch.remove(a);
    const n = a.deadlines.length;
    await wait(100);
    expect(a.deadlines.length).toBe(n);
    expect(b.deadlines.length).toBeGreaterThan(n + 2);
    sch.remove(b);
    // a beat the clock thread posted just before it saw the slot go idle may still be on its way (seen once
    // in CI: 11 against 10); after that, none
    await wait(30);
    const beats = sch.clockLateness.count;
    await wait(100);
    expect(sch.clockLateness.count).toBe(beats); // the clock thread sleeps while no slot is busy
    expect(sch.size).toBe(0);
  });

  it('poll() sends the frames that fell due while the event loop was busy, without waiting for a timer', async () => {
    const sch = scheduler({ precise: false });
    const s = stream();
    sch.add(s);
    await wait(50);
    // hold the event loop for 45 ms: no timer (and no clock thread message) can run meanwhile
    const until = performance.now() + 45;
    while (performance.now() < until) {}
    const before = s.deadlines.length;
    sch.poll();
    // two or three deadlines passed while the loop was held: all sent, synchronously, in order
    expect(s.deadlines.length - before).toBeGreaterThanOrEqual(2);
    expectPaced(s, before + 2);
    sch.poll(); // nothing more is due
    expect(s.deadlines.length - before).toBeLessThanOrEqual(3);
  });
});
