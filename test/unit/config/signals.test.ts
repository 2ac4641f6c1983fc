import { describe, expect, it } from 'vitest';
import { HURRY_WITHIN_MS, SAME_PRESS_MS, signalVerdict } from '../../../src/io/signal-presses.ts';

describe('stop signals: one press is one press', () => {
  it("the first stops; npm's forwarded copy of a Ctrl-C is the same press; a second Ctrl-C a person pressed hurries", () => {
    expect(signalVerdict(undefined, 'SIGINT', 0)).toBe('stop');
    const first = { signal: 'SIGINT', at: 1000 };
    expect(signalVerdict(first, 'SIGINT', 1013)).toBe('same'); // 13 ms later: npm forwarding the terminal's
    expect(signalVerdict(first, 'SIGINT', 1000 + SAME_PRESS_MS)).toBe('hurry');
    expect(signalVerdict(first, 'SIGINT', 1000 + HURRY_WITHIN_MS)).toBe('same'); // long after: a repeat
    expect(signalVerdict(first, 'SIGTERM', 2000)).toBe('same');
    expect(signalVerdict({ signal: 'SIGTERM', at: 1000 }, 'SIGINT', 2000)).toBe('same');
  });
});
