import type { ParsedResponse } from '../message/parse.ts';
import { readMinSE } from './session-timer.ts';

/**
 * The UAC side of an INVITE we sent, as a pure function of each response: what the call should do with it.
 * RFC 3261 13.2.2: provisional responses (a 100 is hop-by-hop and means nothing to the call); 13.2.2.4: the
 * first 2xx confirms the dialog and is ACKed, "the UAC core MUST generate an ACK request for each 2xx
 * received from the transaction layer", so a retransmitted 2xx of the same dialog gets the same ACK again;
 * 22.2/22.3: a 401 or 407 is answered once with credentials in a new INVITE (next CSeq); an offer of
 * SRTP that may fall back is made once more with plain RTP after a 488; a 422 (RFC 4028) once more with a
 * longer session interval; any other final response, or a second challenge, fails the call.
 */
export interface InviteClient {
  /** CSeq number of the INVITE in flight. */
  readonly cseq: number;
  readonly authTried: boolean;
  /** The To tag of the 2xx that confirmed the dialog. */
  readonly answeredBy?: string | undefined;
  /** Our offer is RTP/SAVP and may fall back to plain RTP once (SRTP=offer). */
  readonly srtpFallback?: boolean;
  /** A 422 was answered once with a longer session interval. */
  readonly timerRetried?: boolean;
}

export type InviteClientAction =
  | { readonly type: 'ignore' }
  | { readonly type: 'provisional'; readonly status: number }
  | { readonly type: 'answered' }
  | { readonly type: 'ack-again' }
  | { readonly type: 'retry'; readonly cseq: number; readonly authorization: readonly [string, string] }
  | { readonly type: 'retry-plain'; readonly cseq: number }
  | { readonly type: 'retry-timer'; readonly cseq: number; readonly minSE: number }
  | { readonly type: 'failed'; readonly status: number; readonly reason: string };

export const inviteClientStart = (cseq: number, srtpFallback = false): InviteClient => ({
  cseq,
  authTried: false,
  srtpFallback,
});

/**
 * `answer` gives the header answering a 401/407's challenge (answerChallenge with the credentials), or
 * undefined when there are none or the challenge is unusable.
 */
export function inviteClientResponse(
  s: InviteClient,
  r: ParsedResponse,
  answer: (r: ParsedResponse) => readonly [string, string] | undefined,
): readonly [InviteClient, InviteClientAction] {
  const status = r.msg.status;
  if (r.cseq.seq !== s.cseq) return [s, { type: 'ignore' }];
  if (status >= 200 && status < 300) {
    if (s.answeredBy === undefined) return [{ ...s, answeredBy: r.toTag ?? '' }, { type: 'answered' }];
    // another dialog's 2xx (a forking proxy) is not ours to confirm: left alone, as before
    return [s, (r.toTag ?? '') === s.answeredBy ? { type: 'ack-again' } : { type: 'ignore' }];
  }
  // after a 2xx the INVITE client transaction passes on only 2xx (RFC 6026 7.2)
  if (s.answeredBy !== undefined) return [s, { type: 'ignore' }];
  if (status < 200) return [s, status === 100 ? { type: 'ignore' } : { type: 'provisional', status }];
  const authorization = s.authTried ? undefined : answer(r);
  if (authorization) {
    const cseq = s.cseq + 1;
    return [
      { ...s, cseq, authTried: true },
      { type: 'retry', cseq, authorization },
    ];
  }
  // best-effort SRTP: a peer that takes no RTP/SAVP (488 Not Acceptable Here, RFC 3261 21.4.26) is asked
  // once more with plain RTP; the digest answer, if any, is sent again with it
  if (status === 488 && s.srtpFallback) {
    const cseq = s.cseq + 1;
    return [
      { ...s, cseq, srtpFallback: false },
      { type: 'retry-plain', cseq },
    ];
  }
  // RFC 4028 7.4: "If a 422 response is received, ... the UAC MAY retry the request" with a Session-Expires
  // no smaller than the Min-SE the 422 named (once: a second 422 fails the call)
  if (status === 422 && !s.timerRetried) {
    const cseq = s.cseq + 1;
    return [
      { ...s, cseq, timerRetried: true },
      { type: 'retry-timer', cseq, minSE: readMinSE(r.msg) },
    ];
  }
  return [s, { type: 'failed', status, reason: r.msg.reason }];
}
