import type { CallPlan } from '../routing/plan.ts';
import { parseSdp, type SessionDescription, sdpOf } from '../sdp/index.ts';
import { dialogAsUas, type Hop, recordRouteHeaders } from '../sip/dialog/dialog.ts';
import {
  firstRSeq,
  readRAck,
  reliableProvisionals,
  reliableSchedule,
  reliableStep,
} from '../sip/dialog/prack.ts';
import type { SessionTimer } from '../sip/dialog/session-timer.ts';
import { header } from '../sip/message/headers.ts';
import { newTag } from '../sip/message/ids.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import type { SipResponse } from '../sip/message/types.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import { viaSource } from '../sip/transport/via-route.ts';
import type { CallEvent } from './call-events.ts';
import type { CallContext, EmittedType } from './call-machine/types.ts';
import { allowOf, CallSession, type MachineActions, type SessionEnv, supportedOf } from './call-session.ts';
import type { MediaPorts } from './call-settings.ts';

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
    plan: CallPlan,
  ) {
    super(invite.callId, 'incoming', ports, env);
    this.plan = plan;
    this.invite = invite;
    this.#tx = tx;
    this.#offer = offer;
    this.#source = { ...viaSource(invite.via[0]!), transport: invite.source?.transport };
    this.usage.establish(dialogAsUas(invite, newTag(), Math.floor(Math.random() * 10_000) + 1));
    this.peerAllow = allowOf(invite.msg);
    this.peerSupported = supportedOf(invite.msg);
  }

  /**
   * The 200 with our answer. After early media it is the same answer as the 183's, same o= version: "the
   * UAS MUST send the same SDP" in the 2xx as in the provisional response (RFC 6337 3.1.1; RFC 3261 13.2.1).
   */
  #answer(): void {
    let sdp: string;
    if (this.#early) sdp = this.#early.sdp;
    else if (this.#offer) {
      const answer = this.sdp.answer(this.#offer);
      if (!answer.ok) throw new Error(answer.error); // checked before the call was created
      sdp = answer.sdp;
    } else {
      sdp = this.sdp.offer(); // no offer in the INVITE: ours goes in the 200
    }
    // RFC 4028 9 (a too short interval got its 422 before the call was made)
    const timer = this.sessionTimer.answer(this.invite.msg);
    this.#timer = timer.kind === 'accept' ? timer.timer : undefined;
    const ok = this.respondWithSdp(this.#tx, sdp, timer.kind === 'accept' ? timer.headers : []);
    this.awaitAck(this.#tx, ok, () => this.send({ type: 'timer.ackTimeout' }));
  }

  /** Early media we sent: its answer, and for a reliable 183 (RFC 3262) its RSeq and PRACK. */
  #early: { sdp: string; rseq: number | undefined; pracked: boolean; answerWaiting: boolean } | undefined;

  /**
   * 183 Session Progress with our answer (RFC 3261 13.3.1.1, RFC 3960's early media), reliable when the
   * caller requires or supports 100rel (RFC 3262: Require: 100rel, RSeq, resent until its PRACK); then
   * `call.early` starts the greeting before the call is answered.
   */
  #sendEarlyMedia(): void {
    const answer = this.sdp.answer(this.#offer!);
    if (!answer.ok) throw new Error(answer.error); // checked before the call was created
    const reliable = reliableProvisionals(this.invite.msg) !== undefined;
    const rseq = reliable ? firstRSeq() : undefined;
    this.#early = { sdp: answer.sdp, rseq, pracked: !reliable, answerWaiting: false };
    const res = this.env.core.respond(this.#tx, 183, {
      toTag: this.dialog!.localTag,
      headers: [
        ...recordRouteHeaders(this.#tx.request),
        ['Contact', this.contact()],
        ['Allow', this.env.core.allow],
        ['Supported', this.env.core.supported],
        ...(rseq !== undefined
          ? [['Require', '100rel'] as [string, string], ['RSeq', String(rseq)] as [string, string]]
          : []),
        ['Content-Type', 'application/sdp'],
      ],
      body: new TextEncoder().encode(answer.sdp),
    });
    if (rseq !== undefined) this.#resendReliable(res, reliableSchedule(this.env.timers.t1), 0);
    this.env.emit({ type: 'call.early', callId: this.callId });
  }

  #resendReliable(res: SipResponse, plan: ReturnType<typeof reliableSchedule>, i: number): void {
    const step = reliableStep(plan, i);
    if (step.action === 'give-up') {
      this.runAfter('prack', step.ms, () => {
        this.log.warn({}, 'no PRACK for our reliable 183 within 64*T1: 500');
        this.send({ type: 'timer.prackTimeout' });
      });
      return;
    }
    this.runAfter('prack', step.ms, () => {
      if (this.#early?.pracked || this.#tx.state !== 'proceeding') return;
      this.#tx.respond(res);
      this.#resendReliable(res, plan, i + 1);
    });
  }

  /** RFC 3262 3: a PRACK whose RAck names our reliable 183 is answered 200; the 200 to the INVITE may follow. */
  protected override onPrack(req: ParsedRequest, tx: ServerTransaction): void {
    const e = this.#early;
    const rack = readRAck(req.msg);
    if (
      !e ||
      e.rseq === undefined ||
      !rack ||
      rack.rseq !== e.rseq ||
      rack.cseq !== this.invite.cseq.seq ||
      rack.method !== 'INVITE'
    ) {
      super.onPrack(req, tx);
      return;
    }
    this.env.core.respond(tx, 200);
    if (e.pracked) return; // a retransmitted PRACK
    e.pracked = true;
    this.cancel('prack');
    if (e.answerWaiting && this.state === 'ringing.accepted') this.#answer();
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
      sendRinging: () => {
        // EARLY_MEDIA with an offer to answer: 183 with the answer, and the greeting plays before the answer
        if (s.earlyMedia && this.#offer) this.#sendEarlyMedia();
        // RFC 3262 3: with "Require: 100rel" every provisional response we send must be reliable; a 180
        // carries nothing the caller needs, so none is sent (the 100 Trying is hop-by-hop)
        else if (reliableProvisionals(this.invite.msg) !== 'required')
          core.respond(this.#tx, 180, {
            toTag: toTag(),
            headers: [...recordRouteHeaders(this.#tx.request), ['Contact', this.contact()]],
          });
      },
      startRingTimer: () => {
        // with early media the auto-answer comes once the greeting has been played (earlyMediaPlayed)
        if (this.plan?.autoAnswer && !this.#early)
          this.after('ring', s.ringDelayMs, { type: 'client.answer' });
        else this.after('ring', s.ringTimeoutMs, { type: 'timer.noAnswer' });
      },
      sendAnswer: () => {
        this.cancel('ring');
        // RFC 3262 3: no 2xx while a reliable provisional response with an answer awaits its PRACK
        if (this.#early && !this.#early.pracked) {
          this.#early.answerWaiting = true;
          return;
        }
        this.#answer();
      },
      sendReject: (_, params) =>
        core.respond(this.#tx, params.status, {
          toTag: toTag(),
          ...(params.reason ? { reason: params.reason } : {}),
        }),
      sendRequestTerminated: () => core.respond(this.#tx, 487, { toTag: toTag() }),
      sendInvite: () => {},
      sendCancel: () => {},
      sendAck: () => {},
    };
  }

  get parties(): { from: string; to: string } {
    return { from: header(this.invite.msg, 'from') ?? '', to: header(this.invite.msg, 'to') ?? '' };
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
          route: this.plan?.route,
          trunk: this.plan?.trunk,
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
      const taken = answer?.ok ? this.sdp.acceptAnswer(answer.value) : (answer?.error ?? 'no SDP');
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
