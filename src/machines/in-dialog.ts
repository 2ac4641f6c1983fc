import type { Logger } from '../kernel/logger.ts';
import { parseSdp, sdpOf } from '../sdp/index.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import { offerGlare } from '../sip/dialog/offer-answer.ts';
import { reinviteRefusal, updateRefusal } from '../sip/dialog/reinvite.ts';
import { DialogRequestRate } from '../sip/dialog/request-rate.ts';
import { dtmfOfInfo } from '../sip/message/dtmf-relay.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import type { SipResponse } from '../sip/message/types.ts';
import type { Clock } from '../sip/transaction/clock.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { CallMachineEvent } from './call-machine/types.ts';
import type { DialogUsage } from './dialog-usage.ts';
import type { ReinviteOut } from './reinvite-out.ts';
import type { SessionMedia } from './session-media.ts';
import type { SessionRefresh } from './session-refresh.ts';
import type { TransferIn } from './transfer-in.ts';
import type { TransferOut } from './transfer-out.ts';

/** What the handling of in-dialog requests needs of its call session. */
export interface InDialogHost {
  readonly core: SipCore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly usage: DialogUsage;
  readonly sdp: SessionMedia;
  readonly sessionTimer: SessionRefresh;
  readonly reinviteOut: ReinviteOut;
  readonly transferIn: TransferIn | undefined;
  readonly transferOut: TransferOut;
  /** The call's state as a dotted path ("established" for an established call). */
  readonly state: string;
  /** Whether the transfer region is idle (a REFER may be taken). */
  in(state: { established: { transfer: 'active' } }): boolean;
  send(event: CallMachineEvent): void;
  onPrack(req: ParsedRequest, tx: ServerTransaction): void;
  respondWithSdp(
    tx: ServerTransaction,
    sdp: string | undefined,
    extra?: ReadonlyArray<readonly [string, string]>,
  ): SipResponse;
  awaitAck(tx: ServerTransaction, ok: SipResponse, onGiveUp: () => void): void;
  acked(cseq: number): boolean;
}

/**
 * The requests a peer sends inside a call's dialog, each to its handler: BYE, re-INVITE (RFC 3261 14.2),
 * UPDATE (RFC 3311), INFO DTMF, PRACK (RFC 3262), REFER and NOTIFY (RFC 3515), after the dialog's own
 * checks (CSeq order, the per-dialog rate). Keeps the one piece of state they share: a re-INVITE of the
 * peer's whose 2xx awaits its ACK (with our offer in it when theirs had none).
 */
export class InDialogRequests {
  /** Requests the peer may send in this dialog (a token bucket; BYE and CANCEL always pass). */
  readonly #rate: DialogRequestRate;
  /** An incoming re-INVITE whose 200 awaits its ACK. */
  #reinvite: { cseq: number; offerInAck: boolean } | undefined;
  readonly #h: InDialogHost;

  constructor(host: InDialogHost) {
    this.#h = host;
    this.#rate = new DialogRequestRate(host.clock.now());
  }

  /** A re-INVITE of the peer's, or our 2xx to one, is unfinished (its ACK not in). */
  get reinviteWaiting(): boolean {
    return this.#reinvite !== undefined;
  }

  /** A request inside this dialog (the manager matched Call-ID and tags). */
  onRequest(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.#h.core;
    // a peer flooding its own dialog is answered 503 beyond its share (sip/dialog/request-rate.ts)
    if (!this.#rate.take(req.msg.method, this.#h.clock.now())) {
      core.respond(tx, 503, {
        reason: 'Service Unavailable (too many requests in this dialog)',
        headers: [['Retry-After', '1']],
      });
      if (this.#rate.refused === 1 || this.#rate.refused % 1000 === 0)
        this.#h.log.warn(
          { refused: this.#rate.refused, method: req.msg.method },
          'in-dialog requests over the limit: 503',
        );
      return;
    }
    const refused = this.#h.usage.receive(req);
    if (refused) {
      core.respond(tx, refused.status, { reason: refused.reason });
      return;
    }
    switch (req.msg.method) {
      case 'BYE':
        core.respond(tx, 200);
        this.#h.send({ type: 'sip.bye' });
        return;
      case 'INVITE':
        this.#onReinvite(req, tx);
        return;
      case 'INFO':
        core.respond(tx, 200);
        this.#onInfo(req);
        return;
      case 'PRACK':
        this.#h.onPrack(req, tx);
        return;
      case 'REFER':
        if (this.#h.transferIn)
          this.#h.transferIn.onRefer(req, tx, this.#h.in({ established: { transfer: 'active' } }));
        else core.respond(tx, 501);
        return;
      case 'NOTIFY':
        this.#h.transferOut.onNotify(req, tx);
        return;
      case 'UPDATE':
        this.#onUpdate(req, tx);
        return;
      default:
        core.respond(tx, 200, { headers: [['Allow', this.#h.core.allow]] });
    }
  }

  /** SIP INFO DTMF (application/dtmf-relay "Signal=5"), as many PBXs send it. */
  #onInfo(req: ParsedRequest): void {
    const digit = dtmfOfInfo(req.msg);
    if (digit) this.#h.send({ type: 'media.dtmf', digit });
  }

  /**
   * re-INVITE (hold, resume, new media address): 200 with a fresh answer, or our offer when it came without
   * one (the answer then comes in the ACK); refused with 491 while the dialog is busy (reinvite.ts).
   */
  #onReinvite(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.#h.core;
    const refusal = reinviteRefusal({
      established: this.#h.state === 'established',
      pending: !!this.#reinvite || this.#h.reinviteOut.pending,
    });
    if (refusal) {
      core.respond(tx, refusal.status, { headers: refusal.headers });
      return;
    }
    const timer = this.#h.sessionTimer.answer(req.msg);
    if (timer.kind === 'reject') {
      core.respond(tx, timer.status, { headers: timer.headers });
      return;
    }
    const offerText = sdpOf(req.msg);
    let sdp: string;
    if (offerText !== undefined) {
      const answered = this.#answerPeerOffer(offerText, tx);
      if (answered === undefined) return;
      sdp = answered;
    } else {
      sdp = this.#h.sdp.offer();
    }
    const ok = this.#h.respondWithSdp(tx, sdp, timer.headers);
    this.#h.sessionTimer.arm(timer.timer); // a re-INVITE is a session refresh (RFC 4028 9)
    this.#reinvite = { cseq: req.cseq.seq, offerInAck: offerText === undefined };
    this.#h.awaitAck(tx, ok, () => {
      this.#reinvite = undefined;
      this.#h.send({ type: 'client.hangup' });
    });
  }

  /** An ACK inside the dialog; true when it was for a re-INVITE (the subclass handles the first one). */
  ackForReinvite(ack: ParsedRequest): boolean {
    const r = this.#reinvite;
    if (!r || ack.cseq.seq !== r.cseq) return false;
    this.#h.acked(r.cseq);
    this.#reinvite = undefined;
    if (r.offerInAck) {
      const text = sdpOf(ack.msg);
      const answer = text === undefined ? undefined : parseSdp(text);
      // no usable answer to the offer in our 2xx: the session stays as it was
      if (!answer?.ok || this.#h.sdp.acceptAnswer(answer.value) !== true) this.#h.sdp.rollback();
    }
    return true;
  }

  /** Our answer to an offer in a re-INVITE or UPDATE (the media follow it), or undefined after a 488. */
  #answerPeerOffer(offerText: string, tx: ServerTransaction): string | undefined {
    const offer = parseSdp(offerText);
    const answer = offer.ok ? this.#h.sdp.answer(offer.value) : offer;
    if (!answer.ok) {
      this.#h.core.respond(tx, 488, { reason: `Not Acceptable Here (${answer.error})` });
      return undefined;
    }
    return answer.sdp;
  }

  /**
   * UPDATE (RFC 3311): a session refresh (RFC 4028), with or without an offer. "If an UPDATE is received
   * that contains an offer, and the UAS has generated an offer ... to which it has not yet received an
   * answer, the UAS MUST reject the UPDATE with a 491" (5.2). (We answer every offer at once, so 5.2's 500
   * for an offer not yet answered does not arise.)
   */
  #onUpdate(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.#h.core;
    const timer = this.#h.sessionTimer.answer(req.msg);
    if (timer.kind === 'reject') {
      core.respond(tx, timer.status, { headers: timer.headers });
      return;
    }
    const offerText = sdpOf(req.msg);
    let sdp: string | undefined;
    if (offerText !== undefined) {
      const refusal = updateRefusal({
        offer: true,
        ourOfferPending: offerGlare(this.#h.sdp.signaling),
      });
      if (refusal) {
        core.respond(tx, refusal.status, { headers: refusal.headers });
        return;
      }
      sdp = this.#answerPeerOffer(offerText, tx);
      if (sdp === undefined) return;
    }
    this.#h.respondWithSdp(tx, sdp, timer.headers);
    if (this.#h.state === 'established') this.#h.sessionTimer.arm(timer.timer);
  }
}
