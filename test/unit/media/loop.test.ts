import { describe, expect, it } from 'vitest';
import { PacketSlots } from '../../../src/io/media/packet-slots.ts';
import { Loop } from '../../../src/media/loop.ts';

describe('Loop: a sound played round and round, a frame at a time', () => {
  it('wraps to the start mid-frame, and a frame is a scratch buffer', () => {
    const l = new Loop(Int16Array.from([1, 2, 3, 4, 5]), 3);
    const a = [...l.next()];
    const b = l.next();
    expect(a).toEqual([1, 2, 3]);
    expect([...b]).toEqual([4, 5, 1]);
    expect(l.next()).toBe(b); // the same buffer, new samples
    expect([...b]).toEqual([2, 3, 4]);
  });
});

describe('PacketSlots: a stream reuses its packet buffers once the socket is done with them', () => {
  it('hands out a new buffer while every one is in flight, and the oldest again once its send completed', () => {
    const slots = new PacketSlots();
    const a = slots.take();
    const b = slots.take();
    expect(b).not.toBe(a);
    slots.sent(); // a's send completed
    expect(slots.take()).toBe(a);
    expect(a.buffer.length).toBe(12 + 160 + 16); // header, a 20 ms G.711 frame, room for an SRTP tag
    expect(a.payload.byteOffset - a.packet.byteOffset).toBe(12);
  });
});
