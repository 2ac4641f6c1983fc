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
