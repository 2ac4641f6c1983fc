import { describe, expect, it } from 'vitest';
import { callHarness, OFFER } from '../../helpers/call-harness.ts';
import { requestText } from '../../helpers/messages.ts';

// A call still up when the relay shuts down is stopped where it stands: its own timers must go with it.
// Before, a 2xx waiting for its ACK went on being retransmitted for 64*T1 after the shutdown, and its
// give-up then hit the stopped actor ('timer.ackTimeout was sent to stopped actor', seen in the test logs).
describe('shutdown stops what a call had running', () => {
  it('no 2xx retransmission and no timer event after a call is stopped at shutdown', async () => {
    const h = callHarness();
    h.deliver(requestText({ body: OFFER(), extra: ['Content-Type: application/sdp'] }));
    await h.settle();
    h.clock.advance(100); // answered: the 200 waits for an ACK that never comes
    expect(h.responses(h.sent).some((r) => r.msg.status === 200)).toBe(true);
    await h.calls.shutdown(0);
    expect(h.calls.size).toBe(0);
    const n = h.sent.length;
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warnings.push(a.join(' '));
    try {
      for (let i = 0; i < 40; i++) h.clock.advance(1000);
      await h.settle();
    } finally {
      console.warn = warn;
    }
    expect(h.responses(h.since(n)).filter((r) => r.msg.status === 200)).toEqual([]);
    expect(warnings.filter((w) => /stopped actor/.test(w))).toEqual([]);
  });
});
