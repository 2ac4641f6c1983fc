import { describe, expect, it } from 'vitest';
import { isPong, nextPingMs, unansweredPing } from '../../../src/sip/transport/keep-alive.ts';

describe('RFC 5626 4.4.1 keep-alive rules', () => {
  it('the next ping: 95 to 120 s for the default 120 s interval, the same share of another', () => {
    expect(nextPingMs(120_000, 0)).toBe(95_000);
    expect(nextPingMs(120_000, 0.999999)).toBeCloseTo(120_000, -1);
    expect(nextPingMs(1200, 0.5)).toBe(1075);
  });

  it('a pong is a CRLF at the start of what arrives; a ping it leaves unanswered fails only a flow that has ponged', () => {
    expect(isPong(Uint8Array.of(0x0d, 0x0a))).toBe(true);
    expect(isPong(new TextEncoder().encode('SIP/2.0 200 OK\r\n'))).toBe(false);
    expect(isPong(Uint8Array.of(0x0d))).toBe(false);
    expect(unansweredPing(true)).toBe('failed');
    expect(unansweredPing(false)).toBe('ping again');
  });
});
