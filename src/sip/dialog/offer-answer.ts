/**
 * The offer/answer state of a session as SIP carries it (RFC 3264, RFC 3261 13.2.1 and 14, RFC 3311,
 * RFC 6337), the three states SIP.js's session keeps: `stable` (no offer outstanding),
 * `have-local-offer` (our offer awaits its answer: in our INVITE, re-INVITE or UPDATE, or in our 2xx to
 * an INVITE without one, answered in the ACK), `have-remote-offer` (the peer's awaits ours). Pure.
 */
export type SignalingState = 'stable' | 'have-local-offer' | 'have-remote-offer';

export type OfferAnswerEvent =
  /** We sent an offer. A new one while ours is unanswered replaces it (a retry after its refusal). */
  | 'local-offer'
  /** The answer to our offer came. Again in stable: the 2xx repeating the 183's answer (RFC 6337 3.1.1). */
  | 'remote-answer'
  | 'remote-offer'
  | 'local-answer'
  /**
   * The offer's transaction failed, or its answer was unusable: back to stable, "the session parameters
   * MUST remain unchanged" (RFC 3261 14.1).
   */
  | 'rollback';

export function offerAnswer(state: SignalingState, event: OfferAnswerEvent): SignalingState {
  switch (event) {
    case 'local-offer':
      return 'have-local-offer';
    case 'remote-offer':
      return 'have-remote-offer';
    case 'remote-answer':
      return state === 'have-local-offer' ? 'stable' : state;
    case 'local-answer':
      return state === 'have-remote-offer' ? 'stable' : state;
    case 'rollback':
      return 'stable';
  }
}

/**
 * Whether a new offer from the peer meets one of ours still unanswered (glare): RFC 3311 5.2 answers such
 * an UPDATE 491, RFC 3261 14.2 such a re-INVITE.
 */
export const offerGlare = (state: SignalingState): boolean => state === 'have-local-offer';
