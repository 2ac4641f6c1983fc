import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES, PlayoutQueue } from '../../../src/media/playout-queue.ts';
import { narrowbandInSlices, StreamResampler } from '../../../src/media/stream-resampler.ts';

describe('playout queue', () => {
  it('plays a shared array by reference: frames are views of it, nothing is copied but a padded last frame', () => {
    const greeting = Int16Array.from({ length: 8000 * 2 + 50 }, (_, i) => i % 1000);
    const calls = [new PlayoutQueue(), new PlayoutQueue()];
    for (const q of calls) q.enqueue(greeting);
    expect(calls[0]!.queuedFrames).toBe(101);
    const first = calls[0]!.next()!;
    expect(first.buffer).toBe(greeting.buffer); // the same memory for every call: a 200 MB greeting stays 200 MB
    expect([...first]).toEqual([...greeting.subarray(0, FRAME_SAMPLES)]);
    for (let i = 1; i < 100; i++) calls[0]!.next();
    const last = calls[0]!.next()!;
    expect(last.buffer).not.toBe(greeting.buffer);
    expect([...last.subarray(0, 50)]).toEqual([...greeting.subarray(16000)]);
    expect([...last.subarray(50)].every((v) => v === 0)).toBe(true);
    expect(calls[0]!.next()).toBeUndefined();
    expect(calls[1]!.queuedFrames).toBe(101); // the other call's queue is untouched
  });

  it('a padded frame stays valid through the next frame (a frame sent early is recorded a tick later)', () => {
    const q = new PlayoutQueue();
    q.enqueue(new Int16Array(10).fill(1));
    q.enqueue(new Int16Array(10).fill(2));
    const a = q.next()!;
    const b = q.next()!;
    expect([a[0], b[0]]).toEqual([1, 2]);
  });

  it('fits() says whether more audio stays within limitMs; marks and clear still count frames', () => {
    const q = new PlayoutQueue();
    q.limitMs = 1000;
    q.enqueue(new Int16Array(4000)); // 500 ms
    expect(q.fits(500)).toBe(true);
    expect(q.fits(520)).toBe(false);
    const fired: string[] = [];
    q.mark((r) => fired.push(r));
    q.next();
    expect(q.clear()).toBe(24);
    expect(fired).toEqual(['cleared']);
    expect(q.queuedMs).toBe(0);
  });
});

describe('narrowbandInSlices', () => {
  it('gives the same samples as one StreamResampler pass, pausing between quarter seconds', async () => {
    const pcm = Int16Array.from({ length: 24000 * 3 + 7 }, (_, i) => Math.round(9000 * Math.sin(i / 7)));
    const bytes = new Uint8Array(pcm.buffer);
    let pauses = 0;
    const sliced = await narrowbandInSlices(bytes, 24000, async () => {
      pauses++;
    });
    const r = new StreamResampler(24000, 8000);
    const once = [...r.pushBytes(bytes), ...r.flush()];
    expect([...sliced]).toEqual(once);
    expect(pauses).toBe(12);
  });
});
