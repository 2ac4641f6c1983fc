import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures (WEBHOOK_SECRET), in the scheme Stripe and others use: the header
 * `X-Relay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The receiver recomputes the
 * HMAC over the exact body bytes and refuses a timestamp older than a few minutes, so a captured request
 * cannot be replayed later.
 */
export const SIGNATURE_HEADER = 'X-Relay-Signature';

export function signWebhook(secret: string, body: string, nowS: number): string {
  const t = Math.floor(nowS);
  const mac = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${mac}`;
}

/** Checks a signature header against the body: a fresh timestamp and a matching v1 (any of several). */
export function verifyWebhook(
  secret: string,
  header: string | undefined,
  body: string,
  nowS: number,
  toleranceS = 300,
): { ok: true } | { ok: false; why: string } {
  if (!header) return { ok: false, why: 'no signature header' };
  const parts = header.split(',').map((p) => p.trim().split('=') as [string, string | undefined]);
  const t = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(t)) return { ok: false, why: 'no timestamp' };
  if (Math.abs(nowS - t) > toleranceS) return { ok: false, why: 'timestamp too old or in the future' };
  const expected = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const match = parts.some(
    ([k, v]) =>
      k === 'v1' &&
      v !== undefined &&
      v.length === expected.length &&
      timingSafeEqual(Buffer.from(v), expected),
  );
  return match ? { ok: true } : { ok: false, why: 'signature does not match' };
}
