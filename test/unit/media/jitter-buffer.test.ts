import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JitterBuffer, type JitterOutput } from '../../../src/media/jitter-buffer.ts';

const pkt = (sequence: number) => ({
  sequence: sequence & 0xffff,
  timestamp: (sequence * 160) >>> 0,
  payloadType: 0,
  payload: new Uint8Array([sequence & 0xff]),
});
const seqs = (out: JitterOutput[]) => out.map((o) => (o.kind === 'packet' ? o.packet.sequence : o.kind));
// a popped packet is valid until the next pop or push: keep a copy of each
const copy = (o: JitterOutput): JitterOutput =>
  o.kind === 'packet' ? { kind: 'packet', packet: { ...o.packet, payload: o.packet.payload.slice() } } : o;
const drain = (jb: JitterBuffer, n: number) => Array.from({ length: n }, () => copy(jb.pop()));

describe('jitter buffer', () => {
  it('waits for its depth (60 ms = 3 frames), then plays in order', () => {
    const jb = new JitterBuffer({ depthMs: 60 });
    jb.push(pkt(10), 0);
    expect(jb.pop().kind).toBe('empty');
    jb.push(pkt(11), 20);
    jb.push(pkt(12), 40);
    expect(seqs(drain(jb, 4))).toEqual([10, 11, 12, 'empty']);
  });

  it('reorders, drops duplicates and late packets, fills gaps as lost; counts all of it', () => {
    const jb = new JitterBuffer({ depthMs: 60 });
    for (const s of [1, 3, 2, 2, 5, 6]) jb.push(pkt(s), s * 20);
    expect(seqs(drain(jb, 6))).toEqual([1, 2, 3, 'lost', 5, 6]);
    jb.push(pkt(4), 200); // after its turn
    expect(jb.stats).toMatchObject({ received: 7, duplicates: 1, late: 1, reordered: 1, lost: 1 });
  });

  it('survives the 16-bit sequence wrap', () => {
    const jb = new JitterBuffer({ depthMs: 40 });
    for (const s of [65534, 65535, 0, 1]) jb.push(pkt(s), 0);
    expect(seqs(drain(jb, 4))).toEqual([65534, 65535, 0, 1]);
  });

  it('resynchronises when the sender jumps far ahead instead of reporting thousands lost', () => {
    const jb = new JitterBuffer({ depthMs: 20 });
    jb.push(pkt(100), 0);
    expect(seqs(drain(jb, 1))).toEqual([100]);
    jb.push(pkt(30_000), 20);
    expect(seqs(drain(jb, 1))).toEqual([30000]);
    expect(jb.stats.lost).toBe(0);
  });

  it('jitter per RFC 3550 A.8 is 0 for perfectly paced packets and grows with irregular arrival', () => {
    const even = new JitterBuffer();
    for (let i = 0; i < 50; i++) even.push(pkt(i), i * 20);
    expect(even.stats.jitter).toBe(0);
    const bumpy = new JitterBuffer();
    for (let i = 0; i < 50; i++) bumpy.push(pkt(i), i * 20 + (i % 2 ? 15 : 0));
    expect(bumpy.stats.jitter).toBeGreaterThan(50); // timestamp units: > 6 ms
  });

  it('property: any permutation within the window comes out in order, none lost', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 65535 }),
        fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        (start, keys) => {
          const jb = new JitterBuffer({ depthMs: 160 }); // 8 frames: the whole window is held before playing
          const order = [...Array(8).keys()].sort((a, b) => keys[a]! - keys[b]! || a - b);
          for (const i of order) jb.push(pkt(start + i), 0);
          expect(seqs(drain(jb, 8))).toEqual([...Array(8).keys()].map((i) => (start + i) & 0xffff));
          expect(jb.stats.lost).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('takes the payload straight from a byte range of the datagram (pushFrom), copying it', () => {
    const jb = new JitterBuffer({ depthMs: 40 });
    const datagram = new Uint8Array(12 + 160 + 4);
    for (const seq of [7, 8]) {
      datagram.fill(0xee);
      datagram.fill(seq, 12, 172);
      jb.pushFrom(seq, seq * 160, 8, datagram, 12, 172, seq * 20);
    }
    datagram.fill(0);
    const out = drain(jb, 2).map((o) => (o.kind === 'packet' ? o.packet : undefined));
    expect(out.map((p) => [p?.sequence, p?.timestamp, p?.payloadType, p?.payload.length])).toEqual([
      [7, 1120, 8, 160],
      [8, 1280, 8, 160],
    ]);
    expect(out.map((p) => p?.payload.every((b) => b === p.sequence))).toEqual([true, true]);
  });

  it('keeps its own copy of each payload: the socket buffer may be reused or freed at once', () => {
    const jb = new JitterBuffer({ depthMs: 40 });
    const wire = new Uint8Array(160);
    for (const seq of [1, 2, 3]) {
      wire.fill(seq);
      jb.push({ sequence: seq, timestamp: seq * 160, payloadType: 0, payload: wire }, seq * 20);
    }
    wire.fill(0);
    const bytes = drain(jb, 3).map((o) =>
      o.kind === 'packet' ? [o.packet.payload[0], o.packet.payload.length] : o,
    );
    expect(bytes).toEqual([
      [1, 160],
      [2, 160],
      [3, 160],
    ]);
  });

  it('gives packets that would share a ring slot, or are longer than one, their own copies', () => {
    const jb = new JitterBuffer({ depthMs: 60 });
    const push = (seq: number, len = 160) =>
      jb.push(
        {
          sequence: seq,
          timestamp: seq * 160,
          payloadType: 0,
          payload: new Uint8Array(len).fill(seq & 0xff),
        },
        0,
      );
    // before playback a packet 64 sequence numbers earlier can still arrive: both are held
    push(100);
    push(36);
    push(37, 320);
    const out = drain(jb, 3);
    expect(out[0]).toMatchObject({ kind: 'packet', packet: { sequence: 36 } });
    expect(out[0]!.kind === 'packet' && out[0]!.packet.payload[0]).toBe(36);
    expect(out[1]!.kind === 'packet' && [out[1]!.packet.payload.length, out[1]!.packet.payload[319]]).toEqual(
      [320, 37],
    );
    while (jb.size > 0) {
      const o = jb.pop();
      if (o.kind === 'packet' && o.packet.sequence === 100) expect(o.packet.payload[0]).toBe(100);
    }
  });
});
