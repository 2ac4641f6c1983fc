import { reasonPhrase } from './status.ts';

/**
 * The one error shape of the SIP layer: what went wrong, and the status a UAS answers with.
 * parse error -> 400 (or 505, 416 ...), transaction timeout -> 408, transport error -> 503.
 */
export interface SipError {
  readonly status: number;
  /** Reason phrase to put on the wire; names the problem for 400s ("Bad Request (missing To header)"). */
  readonly reason: string;
  /** Extra headers a response to this error must carry (Allow, Accept, Unsupported ...). */
  readonly replyHeaders?: ReadonlyArray<readonly [string, string]>;
}

export function sipError(
  status: number,
  detail?: string,
  replyHeaders?: ReadonlyArray<readonly [string, string]>,
): SipError {
  const base = reasonPhrase(status);
  const reason = detail ? `${base} (${detail})` : base;
  return replyHeaders ? { status, reason, replyHeaders } : { status, reason };
}

export const badRequest = (detail: string): SipError => sipError(400, detail);
