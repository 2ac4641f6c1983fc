/**
 * Whether a re-INVITE may proceed on a dialog, or the status that refuses it. RFC 3261 14.2: "A UAS that
 * receives an INVITE on a dialog while an INVITE it had sent on that dialog is in progress MUST return a 491
 * (Request Pending) response to the received INVITE." 14.1 forbids a new INVITE "while another INVITE
 * transaction is in progress in either direction": we treat the dialog as busy until the first INVITE is
 * confirmed and until our 2xx to an earlier re-INVITE has its ACK (its offer/answer is not complete), and
 * answer 491 then too, with a Retry-After so the peer retries.
 */
export function reinviteRefusal(o: {
  /** The dialog is confirmed (its first INVITE answered and ACKed) and not ending. */
  readonly established: boolean;
  /** A re-INVITE of ours, or our 2xx to one of theirs, is still waiting (answer or ACK). */
  readonly pending: boolean;
}): { readonly status: 491; readonly headers: Array<[string, string]> } | undefined {
  if (o.established && !o.pending) return undefined;
  return { status: 491, headers: [['Retry-After', '1']] };
}

/**
 * RFC 3311 5.2: "If an UPDATE is received that contains an offer, and the UAS has generated an offer (in an
 * UPDATE, PRACK or INVITE) to which it has not yet received an answer, the UAS MUST reject the UPDATE with
 * a 491 response." (We answer every offer at once, so 5.2's 500 for an offer not yet answered does not
 * arise.) An UPDATE without an offer (a session refresh) always proceeds.
 */
export function updateRefusal(o: {
  /** The UPDATE carries an offer. */
  readonly offer: boolean;
  /** An offer of ours awaits its answer: our re-INVITE, or our offer in a 2xx whose ACK brings the answer. */
  readonly ourOfferPending: boolean;
}): { readonly status: 491; readonly headers: Array<[string, string]> } | undefined {
  return o.offer && o.ourOfferPending ? { status: 491, headers: [['Retry-After', '1']] } : undefined;
}

/**
 * RFC 3261 14.1, after our re-INVITE got 491: "If the UAC is the owner of the Call-ID of the dialog ID
 * (meaning it generated the value), T has a randomly chosen value between 2.1 and 4 seconds in units of 10
 * ms. If the UAC is not the owner of the Call-ID of the dialog ID, T has a randomly chosen value of between
 * 0 and 2 seconds in units of 10 ms." The wait before trying again, ms.
 */
export function glareDelayMs(ownsCallId: boolean, random: () => number = Math.random): number {
  const tens = (lo: number, hi: number) => lo + Math.floor(random() * ((hi - lo) / 10 + 1)) * 10;
  return ownsCallId ? tens(2100, 4000) : tens(0, 2000);
}

/**
 * Whether a failed in-dialog request means the dialog is over: RFC 3261 12.2.1.2, "If the response for a
 * request within a dialog is a 481 (Call/Transaction Does Not Exist) or a 408 (Request Timeout), the UAC
 * SHOULD terminate the dialog"; RFC 4028 10 says the same of a session refresh (then BYE).
 */
export const dialogGone = (status: number): boolean => status === 408 || status === 481;
