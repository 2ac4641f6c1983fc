import { header, headerValues } from '../message/headers.ts';
import type { SipMessage } from '../message/types.ts';

/**
 * Reliable provisional responses (RFC 3262), the UAS's pure rules: whether the caller asks for them, the RAck
 * of a PRACK, and when an unacknowledged one is sent again.
 */

/** RFC 3262 3: "Require: 100rel" means the UAC insists; "Supported: 100rel" that it can. */
export function reliableProvisionals(invite: SipMessage): 'required' | 'supported' | undefined {
  const has = (name: string) => headerValues(invite, name).some((t) => t.toLowerCase() === '100rel');
  return has('require') ? 'required' : has('supported') ? 'supported' : undefined;
}

/** RAck = "RAck" HCOLON response-num LWS CSeq-num LWS Method (RFC 3262 7.2). */
export function readRAck(msg: SipMessage): { rseq: number; cseq: number; method: string } | undefined {
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(header(msg, 'rack') ?? '');
  return m ? { rseq: Number(m[1]), cseq: Number(m[2]), method: m[3]!.toUpperCase() } : undefined;
}

/**
 * RFC 3262 3: "The reliable provisional response is passed to the transaction layer periodically with an
 * interval that starts at T1 seconds and doubles for each retransmission" until its PRACK, and "If a
 * reliable provisional response is retransmitted for 64*T1 seconds without reception of a corresponding
 * PRACK, the UAS SHOULD reject the original request with a 5xx response". The waits before each resend
 * (ms), then the wait before giving up.
 */
export function reliableSchedule(t1: number): { resends: number[]; giveUpAfter: number } {
  const resends: number[] = [];
  let at = 0;
  for (let d = t1; at + d < 64 * t1; d *= 2) {
    resends.push(d);
    at += d;
  }
  return { resends, giveUpAfter: 64 * t1 - at };
}

/** A first RSeq: "between 1 and 2**31 - 1" and, advice of 3262 3, well below it so increments never wrap. */
export const firstRSeq = (): number => 1 + Math.floor(Math.random() * 0x3fffffff);

/**
 * The resend loop of a reliable provisional response, one step at a time: after the `i`-th wait, resend it
 * (while no PRACK came and the INVITE is unanswered) or, past the last resend, give up (5xx).
 */
export function reliableStep(
  plan: { readonly resends: readonly number[]; readonly giveUpAfter: number },
  i: number,
): { readonly ms: number; readonly action: 'resend' | 'give-up' } {
  const wait = plan.resends[i];
  return wait === undefined ? { ms: plan.giveUpAfter, action: 'give-up' } : { ms: wait, action: 'resend' };
}
