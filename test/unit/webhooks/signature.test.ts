import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../../src/io/webhooks/signature.ts';

describe('webhook signatures (HMAC-SHA256 over "<t>.<body>", replay-protected)', () => {
  const secret = 'a-secret-of-16-chars';
  const body = '{"event":"call.ended","callId":"x"}';

  it('is the documented HMAC: anyone can check it with a few lines of their own', () => {
    const header = signWebhook(secret, body, 1_800_000_000.7);
    const mac = createHmac('sha256', secret).update(`1800000000.${body}`).digest('hex');
    expect(header).toBe(`t=1800000000,v1=${mac}`);
    expect(verifyWebhook(secret, header, body, 1_800_000_100)).toEqual({ ok: true });
  });

  it('refuses a changed body, another secret, a stale or future timestamp, and a missing header', () => {
    const header = signWebhook(secret, body, 1_800_000_000);
    expect(verifyWebhook(secret, header, `${body} `, 1_800_000_000).ok).toBe(false);
    expect(verifyWebhook('another-secret-16ch', header, body, 1_800_000_000).ok).toBe(false);
    expect(verifyWebhook(secret, header, body, 1_800_000_301)).toEqual({
      ok: false,
      why: 'timestamp too old or in the future',
    });
    expect(verifyWebhook(secret, header, body, 1_799_999_600).ok).toBe(false);
    expect(verifyWebhook(secret, undefined, body, 1_800_000_000).ok).toBe(false);
    // the timestamp is signed: moving it to look fresh breaks the signature
    const moved = header.replace('t=1800000000', 't=1800000500');
    expect(verifyWebhook(secret, moved, body, 1_800_000_500)).toEqual({
      ok: false,
      why: 'signature does not match',
    });
  });
});
