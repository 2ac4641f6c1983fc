import { describe, expect, it } from 'vitest';
import { decodeTelephoneEvent, dtmfEvent, encodeTelephoneEvent } from '../../../src/rtp/dtmf.ts';
import { ReceiverStats } from '../../../src/rtp/receiver-stats.ts';

describe('RTP receiver statistics (RFC 3550 A.1, A.3)', () => {
  it('counts loss from sequence gaps, across the 16-bit wrap', () => {
    const rx = new ReceiverStats();
    for (const seq of [65533, 65534, 0, 1, 3]) expect(rx.accept(7, seq)).toBe('same');
    expect([rx.expected, rx.received, rx.lost]).toEqual([7, 5, 2]); // 65535 and 2 missing
    expect(rx.nextBlock()).toEqual({
      ssrc: 7,
      fractionLost: Math.floor((2 << 8) / 7),
      cumulativeLost: 2,
      highestSeq: 0x10003,
    });
  });

  it('the fraction lost covers only the interval since the last report block', () => {
    const rx = new ReceiverStats();
    for (let s = 0; s < 10; s += 2) rx.accept(1, s); // half lost
    expect(rx.nextBlock()?.fractionLost).toBe(Math.floor((4 << 8) / 9));
    for (let s = 9; s < 20; s++) rx.accept(1, s); // none lost
    expect(rx.nextBlock()).toMatchObject({ fractionLost: 0, cumulativeLost: 4 });
  });

  it('a stray SSRC is held back; three packets in a row take over, with statistics afresh', () => {
    const rx = new ReceiverStats();
    rx.accept(1, 100);
    rx.accept(1, 101);
    expect(rx.accept(2, 5000)).toBe('held');
    expect(rx.accept(1, 102)).toBe('same');
    expect([rx.accept(3, 1), rx.accept(3, 2), rx.accept(3, 3)]).toEqual(['held', 'held', 'new']);
    expect([rx.ssrc, rx.received, rx.expected, rx.lost]).toEqual([3, 1, 1, 0]);
    expect(rx.nextBlock()).toMatchObject({ ssrc: 3, cumulativeLost: 0, highestSeq: 3 });
  });

  it('duplicates never make the loss negative; nothing received, no block', () => {
    const rx = new ReceiverStats();
    expect(rx.nextBlock()).toBeUndefined();
    for (const seq of [1, 1, 1, 2]) rx.accept(9, seq);
    expect(rx.lost).toBe(0);
  });
});

describe('RFC 4733 telephone-events', () => {
  it('encode and decode: event, end bit, volume, duration', () => {
    const p = encodeTelephoneEvent(dtmfEvent('#'), true, 800);
    expect([...p]).toEqual([11, 0x80 | 10, 3, 32]);
    expect(decodeTelephoneEvent(p)).toEqual({ digit: '#', end: true, volume: 10, duration: 800 });
    expect(decodeTelephoneEvent(encodeTelephoneEvent(dtmfEvent('d'), false, 160))).toMatchObject({
      digit: 'D',
      end: false,
    });
  });

  it('only the sixteen DTMF events; short payloads and other keys are refused', () => {
    expect(decodeTelephoneEvent(Uint8Array.of(16, 0, 0, 160))).toBeUndefined(); // 16 is a tone, not DTMF
    expect(decodeTelephoneEvent(Uint8Array.of(1, 0, 0))).toBeUndefined();
    expect([dtmfEvent('x'), dtmfEvent('12'), dtmfEvent('*'), dtmfEvent('a')]).toEqual([-1, -1, 10, 12]);
  });
});
