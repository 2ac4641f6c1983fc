import { answerOffer, parseSdp, type SessionDescription, sdpOf } from '../sdp/index.ts';
import { dialogAsUas, type Hop, recordRouteHeaders } from '../sip/dialog/dialog.ts';
import type { SessionTimer } from '../sip/dialog/session-timer.ts';
import { header } from '../sip/message/headers.ts';
import { newTag } from '../sip/message/ids.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import { viaSource } from '../sip/transport/via-route.ts';
import type { CallContext, EmittedType } from './call.machine.ts';
import type { CallEvent } from './call-events.ts';
import {
  allowOf,
  CallSession,
  type MachineActions,
  type MediaPorts,
  type SessionEnv,
} from './call-session.ts';

/**
 * An incoming call (UAS): INVITE -> 100 (by the transaction) -> 180 -> 200 with the SDP answer, retransmitted
 * until the ACK (RFC 3261 13.3.1.4); CANCEL -> 487; no ACK within 64*T1 -> BYE.
 */
export class IncomingCall extends CallSession {
  readonly invite: ParsedRequest;
  readonly #tx: ServerTransaction;
  readonly #offer: SessionDescription | undefined;
  readonly #source: Hop;
  /** The session timer our 200 agreed to; it runs from the ACK. */
  #timer: SessionTimer | undefined;

  constructor(
    invite: ParsedRequest,
    tx: ServerTransaction,
    offer: SessionDescription | undefined,
    ports: MediaPorts,
    env: SessionEnv,
  ) {
    super(invite.callId, 'incoming', ports, env);
    this.invite = invite;
    this.#tx = tx;
    this.#offer = offer;
    this.#source = { ...viaSource(invite.via[0]!), transport: invite.source?.transport };
    this.dialog = dialogAsUas(invite, newTag(), Math.floor(Math.random() * 10_000) + 1);
    this.peerAllow = allowOf(invite.msg);
  }

  get inviteTxKey(): string {
    return this.#tx.key;
  }

  start(): void {
    this.env.registerDialog(this);
    this.actor.start();
    this.send({ type: 'sip.invite' });
  }

  protected fallbackHop() {
    return this.#source;
  }

  protected override secureScheme(): boolean {
    return this.invite.ruri.kind === 'sip' && this.invite.ruri.scheme === 'sips';
  }

  protected actions(): MachineActions {
    const core = this.env.core;
    const s = this.env.settings;
    // called from the base constructor: read fields when the action runs, not now
    const toTag = () => this.dialog!.localTag;
    return {
      sendRinging: () =>
        core.respond(this.#tx, 180, {
          toTag: toTag(),
          headers: [...recordRouteHeaders(this.#tx.request), ['Contact', this.contact()]],
        }),
      startRingTimer: () => {
        if (s.autoAnswer) this.after('ring', s.ringDelayMs, { type: 'client.answer' });
        else this.after('ring', s.ringTimeoutMs, { type: 'timer.noAnswer' });
      },
      sendAnswer: () => {
        this.cancel('ring');
        let sdp: string;
        if (this.#offer) {
          const answer = answerOffer(this.#offer, this.localMedia(), this.negotiation());
          if (!answer.ok) throw new Error(answer.error); // checked before the call was created
          this.setMedia(answer.value, true);
          sdp = answer.value.sdp;
        } else {
          sdp = this.makeOffer(); // no offer in the INVITE: ours goes in the 200
        }
        // RFC 4028 9 (a too short interval got its 422 before the call was made)
        const timer = this.sessionTimer.answer(this.invite.msg);
        this.#timer = timer.kind === 'accept' ? timer.timer : undefined;
        const ok = this.respondWithSdp(this.#tx, sdp, timer.kind === 'accept' ? timer.headers : []);
        this.awaitAck(this.#tx, ok, () => this.send({ type: 'timer.ackTimeout' }));
      },
      sendReject: (_, params) => core.respond(this.#tx, params.status, { toTag: toTag() }),
      sendRequestTerminated: () => core.respond(this.#tx, 487, { toTag: toTag() }),
      sendInvite: () => {},
      sendCancel: () => {},
      sendAck: () => {},
    };
  }

  protected describe(type: EmittedType, ctx: CallContext): CallEvent | undefined {
    switch (type) {
      case 'call.incoming':
        return {
          type,
          callId: this.callId,
          from: header(this.invite.msg, 'from') ?? '',
          to: header(this.invite.msg, 'to') ?? '',
          source: `${this.#source.host}:${this.#source.port}`,
        };
      case 'call.answered':
        return { type, callId: this.callId, direction: 'incoming' };
      case 'call.cancelled':
        return { type, callId: this.callId };
      case 'call.ended':
        return {
          type,
          callId: this.callId,
          direction: 'incoming',
          reason: ctx.reason ?? 'remote-bye',
          status: ctx.status,
        };
      default:
        return undefined;
    }
  }

  onCancel(): void {
    this.send({ type: 'sip.cancel' });
  }

  override onAck(ack: ParsedRequest): void {
    if (this.ackForReinvite(ack)) return;
    if (ack.cseq.seq !== this.invite.cseq.seq) return;
    this.acked(ack.cseq.seq);
    if (!this.#offer) {
      // delayed offer: the answer to the offer in our 200 comes in the ACK (RFC 3261 13.2.1)
      const text = sdpOf(ack.msg);
      const answer = text === undefined ? undefined : parseSdp(text);
      const taken = answer?.ok ? this.acceptAnswer(answer.value) : (answer?.error ?? 'no SDP');
      if (taken !== true) {
        this.log.warn({ reason: taken }, 'ACK without a usable SDP answer to our offer: ending the call');
        this.send({ type: 'sip.ack' });
        this.send({ type: 'client.hangup' });
        return;
      }
    }
    this.send({ type: 'sip.ack' });
    if (this.state === 'established') this.sessionTimer.arm(this.#timer);
  }
}
