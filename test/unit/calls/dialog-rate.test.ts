import { describe, expect, it } from 'vitest';
import { DIALOG_REQUEST_BURST, DIALOG_REQUESTS_PER_S } from '../../../src/sip/dialog/request-rate.ts';
import { header } from '../../../src/sip/message/headers.ts';
import { callHarness, OFFER } from '../../helpers/call-harness.ts';
import { requestText } from '../../helpers/messages.ts';

// A peer flooding its own dialog (about 1,000 UPDATEs a second were tried) gets 503 beyond its share; BYE
// always passes, and the other calls never notice.
describe('requests in one dialog are rate-limited', () => {
  it(`${DIALOG_REQUEST_BURST} at once, then ${DIALOG_REQUESTS_PER_S} a second; the rest 503 with Retry-After; BYE always passes`, async () => {
    const h = callHarness();
    let branch = 0;
    const send = (o: Parameters<typeof requestText>[0]) =>
      h.deliver(requestText({ branch: `z9hG4bK-rate-${++branch}`, ...o }));
    send({ body: OFFER(), extra: ['Content-Type: application/sdp'] });
    await h.settle();
    h.clock.advance(100);
    const toTag = h.responses(h.sent).find((r) => r.msg.status === 200)!.toTag!;
    send({ method: 'ACK', toTag });
    const info = (cseq: number) =>
      h.responses(
        send({
          method: 'INFO',
          cseq,
          toTag,
          body: 'Signal=5\r\nDuration=100\r\n',
          extra: ['Content-Type: application/dtmf-relay'],
        }),
      )[0]!;
    const first = Array.from({ length: 100 }, (_, i) => info(2 + i));
    expect(first.filter((r) => r.msg.status === 200)).toHaveLength(DIALOG_REQUEST_BURST);
    const refused = first.filter((r) => r.msg.status === 503);
    expect(refused).toHaveLength(100 - DIALOG_REQUEST_BURST);
    expect(header(refused[0]!.msg, 'retry-after')).toBe('1');
    h.clock.advance(1000); // a second later: a second's worth again
    const later = Array.from({ length: 30 }, (_, i) => info(200 + i));
    expect(later.filter((r) => r.msg.status === 200)).toHaveLength(DIALOG_REQUESTS_PER_S);
    // the flood never stops the caller from hanging up
    const bye = h.responses(send({ method: 'BYE', cseq: 300, toTag }))[0]!;
    expect(bye.msg.status).toBe(200);
    expect(h.events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'remote-bye' });
  });
});
