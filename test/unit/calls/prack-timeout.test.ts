import { describe, expect, it } from 'vitest';
import { header } from '../../../src/sip/message/headers.ts';
import { callHarness, OFFER } from '../../helpers/call-harness.ts';
import { requestText } from '../../helpers/messages.ts';

// RFC 3262 3: a reliable 183 never PRACKed is given up after 64*T1 with a 5xx, and the call must end with
// it, whatever it was waiting for: a caller that never PRACKs holds no call slot and no RTP ports.
describe('EARLY_MEDIA: a caller that never PRACKs our reliable 183', () => {
  for (const played of [true, false])
    it(`gets 500 after 64*T1 and the call ends, its ports released (${played ? 'greeting played, the answer waiting for the PRACK' : 'still alerting'})`, async () => {
      const h = callHarness({ settings: { earlyMedia: true, autoAnswer: true } });
      const n = h.sent.length;
      h.deliver(
        requestText({
          body: OFFER(),
          extra: ['Content-Type: application/sdp', 'Supported: 100rel'],
        }),
      );
      await h.settle();
      const early = h.responses(h.since(n)).find((r) => r.msg.status === 183);
      expect(early && header(early.msg, 'require')).toBe('100rel');
      if (played) h.calls.earlyMediaPlayed('call-1@127.0.0.1'); // auto-answer: the 200 waits for the PRACK
      expect(h.calls.size).toBe(1);
      h.clock.advance(32_000 + 1_000);
      await h.settle();
      const finals = h.responses(h.since(n)).filter((r) => r.msg.status >= 200);
      expect([...new Set(finals.map((r) => r.msg.status))]).toEqual([500]); // (and its retransmissions)
      expect(h.events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'no-prack' });
      expect(h.calls.size).toBe(0);
      expect(h.released).toHaveLength(1);
    });
});
