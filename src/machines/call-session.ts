import { type Actor, createActor, type InspectionEvent } from 'xstate';
import type { Logger } from '../kernel/logger.ts';
import type { CallPlan } from '../routing/plan.ts';
import type { Negotiated } from '../sdp/index.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import { AckWaits } from '../sip/dialog/ack-waits.ts';
import { type Dialog, type Hop, recordRouteHeaders } from '../sip/dialog/dialog.ts';
import { glareDelayMs } from '../sip/dialog/reinvite.ts';
import { headerValues } from '../sip/message/headers.ts';
import { bracket } from '../sip/message/host.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import type { SipMessage, SipResponse } from '../sip/message/types.ts';
import { type Clock, TimerSet } from '../sip/transaction/clock.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { TimerTable } from '../sip/transaction/timers.ts';
import { transportParam } from '../sip/transport/transport.ts';
import { callMachine } from './call.machine.ts';
import type { CallEvent } from './call-events.ts';
import type { CallContext, CallMachineEvent, EmittedType } from './call-machine/types.ts';
import type { CallSettings, MediaPorts } from './call-settings.ts';
import type { DialogHost } from './dialog-host.ts';
import { DialogUsage } from './dialog-usage.ts';
import { InDialogRequests } from './in-dialog.ts';
import { ReinviteOut } from './reinvite-out.ts';
import { SessionMedia } from './session-media.ts';
import { SessionRefresh } from './session-refresh.ts';
import { type ReferredCalls, TransferIn } from './transfer-in.ts';
import { TransferOut } from './transfer-out.ts';

/** The methods a peer's Allow header names, upper-case. */
export const allowOf = (msg: SipMessage): string[] =>
  headerValues(msg, 'allow').map((m) => m.trim().toUpperCase());

/** The option tags a peer's Supported header names, lower-case. */
export const supportedOf = (msg: SipMessage): string[] =>
  headerValues(msg, 'supported').map((m) => m.trim().toLowerCase());

export interface SessionEnv {
  readonly core: SipCore;
  readonly clock: Clock;
  readonly timers: TimerTable;
  readonly settings: CallSettings;
  readonly log: Logger;
  emit(event: CallEvent): void;
  registerDialog(session: CallSession): void;
  ended(session: CallSession): void;
  /** REFERs we receive: the allow list, and the call placed to the target. */
  readonly referredCalls?: ReferredCalls;
  /** Actor inspection (Stately inspector, call traces), told which call an event belongs to. */
  inspect?: (event: InspectionEvent, callId: string) => void;
}

export type MachineActions = NonNullable<Parameters<typeof callMachine.provide>[0]['actions']>;

type ActionImpl = (args: unknown, params: unknown) => void;

/**
 * The call machine with its effect actions bound ONCE: each action finds its call session through the actor
 * that runs it. (`.provide()` per call rebuilt every state node: measured at 900 ms of CPU per 5,000 calls.)
 */
const sessions = new WeakMap<object, CallSession>();
/** Every effect the machine declares (its context bookkeeping stays as defined). */
const BOOKKEEPING = new Set(['setReason', 'recordFailure', 'recordTimeout']);
const EFFECTS = Object.keys(callMachine.implementations.actions).filter((name) => !BOOKKEEPING.has(name));
const boundMachine = callMachine.provide({
  actions: Object.fromEntries(
    EFFECTS.map((name) => [
      name,
      (args: { self: object }, params: unknown) => sessions.get(args.self)?.perform(name, args, params),
    ]),
  ) as unknown as MachineActions,
});

/**
 * The glue between one call actor and the SIP core: it performs the machine's named actions, runs its
 * timers on the injected clock and feeds SIP events in. Subclasses add the UAS and UAC specifics.
 */
export abstract class CallSession {
  readonly actor: Actor<typeof callMachine>;
  /** The call's dialog, its only writer, and the recipe of every request in it. */
  protected readonly usage: DialogUsage;
  /** Offer/answer from our side: our SDP, our last offer, the media agreed (session-media.ts). */
  protected readonly sdp: SessionMedia;
  protected readonly log: Logger;
  /** The call's own timers (ring); its 2xx retransmissions are the dialog layer's (#acks). */
  readonly #timers: TimerSet;
  readonly #acks: AckWaits;
  readonly #impl: Record<string, ActionImpl>;
  /** What the peer's INVITE or 2xx said it allows (UPDATE for our refreshes). */
  protected peerAllow: readonly string[] = [];
  /** The option tags the peer's INVITE or 2xx said it supports (lower-case). */
  protected peerSupported: readonly string[] = [];
  /** What its route (or webhook) decided for an incoming call: agent, stream, answering. */
  plan: CallPlan | undefined;
  /** The caller and the called, as URIs (From and Request-URI users are what CDRs and the REST API show). */
  abstract get parties(): { readonly from: string; readonly to: string };

  /** Whether the peer can take a REFER with Replaces pointing at this call (warm transfer by REFER). */
  get peerTakesRefer(): boolean {
    return this.peerAllow.includes('REFER');
  }

  /** Whether the peer accepts an INVITE that replaces this dialog (RFC 3891: Supported: replaces). */
  get peerTakesReplaces(): boolean {
    return this.peerSupported.includes('replaces');
  }
  readonly #host: DialogHost;
  readonly #transferOut: TransferOut;
  readonly #transferIn: TransferIn | undefined;
  readonly #reinviteOut: ReinviteOut;
  protected readonly sessionTimer: SessionRefresh;
  readonly #inDialog: InDialogRequests;

  constructor(
    readonly callId: string,
    readonly direction: 'incoming' | 'outgoing',
    readonly ports: MediaPorts,
    protected readonly env: SessionEnv,
  ) {
    this.log = env.log.child({ callId });
    this.usage = new DialogUsage(
      () => env.core,
      () => this.fallbackHop(),
    );
    this.#timers = new TimerSet(env.clock);
    this.#acks = new AckWaits(env.clock, env.timers);
    this.sdp = new SessionMedia({
      callId,
      settings: env.settings,
      ports,
      hop: () => this.fallbackHop(),
      emit: (e) => env.emit(e),
      holding: () =>
        this.in({ established: { hold: 'holding' } }) || this.in({ established: { hold: 'held' } }),
    });
    this.#host = this.#makeHost();
    this.#transferOut = new TransferOut(this.#host);
    this.#transferIn = env.referredCalls ? new TransferIn(this.#host, env.referredCalls) : undefined;
    this.#reinviteOut = new ReinviteOut(this.#host, this.sdp);
    this.sessionTimer = new SessionRefresh(this.#host, (headers, done) =>
      this.#reinviteOut.send(headers, done),
    );
    const self = this;
    this.#inDialog = new InDialogRequests({
      get core() {
        return env.core;
      },
      clock: env.clock,
      log: this.log,
      usage: this.usage,
      sdp: this.sdp,
      sessionTimer: this.sessionTimer,
      reinviteOut: this.#reinviteOut,
      transferIn: this.#transferIn,
      transferOut: this.#transferOut,
      get state() {
        return self.state;
      },
      in: (state) => this.in(state),
      send: (e) => this.send(e),
      onPrack: (req, tx) => this.onPrack(req, tx),
      respondWithSdp: (tx, sdp, extra) => this.respondWithSdp(tx, sdp, extra),
      awaitAck: (tx, ok, onGiveUp) => this.awaitAck(tx, ok, onGiveUp),
      acked: (cseq) => this.acked(cseq),
    });
    this.#impl = { ...this.commonActions(), ...this.actions() } as Record<string, ActionImpl>;
    this.actor = createActor(boundMachine, {
      input: { direction },
      ...(env.inspect ? { inspect: (e: InspectionEvent) => env.inspect?.(e, callId) } : {}),
    });
    sessions.set(this.actor, this);
    this.actor.subscribe({
      complete: () => env.ended(this),
      error: (e) => this.log.error({ err: String(e) }, 'call actor failed'),
    });
  }

  get dialog(): Dialog | undefined {
    return this.usage.dialog;
  }

  /** The media agreed (the media side reads its SRTP keys here). */
  get media(): Negotiated | undefined {
    return this.sdp.current;
  }

  /** State as a dotted path, e.g. "ringing.alerting"; an established call is "established" (its regions: `in`). */
  get state(): string {
    const walk = (v: unknown): string => {
      if (typeof v === 'string') return v;
      const [k, sub] = Object.entries(v as object)[0]!;
      return k === 'established' ? k : `${k}.${walk(sub)}`;
    };
    return walk(this.actor.getSnapshot().value);
  }

  /** Whether the call is in a state, e.g. `{ established: { transfer: 'active' } }`. */
  in(state: Parameters<ReturnType<Actor<typeof callMachine>['getSnapshot']>['matches']>[0]): boolean {
    return this.actor.getSnapshot().matches(state);
  }

  get done(): boolean {
    return this.actor.getSnapshot().status === 'done';
  }

  send(event: CallMachineEvent): void {
    if (!this.done) this.actor.send(event);
  }

  protected abstract actions(): MachineActions;

  /** Runs one of the machine's named actions for this call (called through `boundMachine`). */
  perform(name: string, args: unknown, params: unknown): void {
    this.#impl[name]?.(args, params);
  }

  /** Which events the machine emits become which CallEvents. */
  protected abstract describe(type: EmittedType, ctx: CallContext): CallEvent | undefined;

  /** Our Contact, on the call's transport (RFC 3261 8.1.1.8: where the peer reaches us in this dialog). */
  protected contact(): string {
    const t = this.fallbackHop().transport;
    const l = this.env.core.sentBy(t);
    const where = `${this.env.settings.contactUser}@${bracket(l.host)}:${l.port}`;
    // RFC 3261 12.1.1: "If the request that initiated the dialog contained a SIPS URI in the Request-URI ...
    // the Contact header field in the response MUST be a SIPS URI" (otherwise sip: with transport=tls)
    if (this.secureScheme() && t === 'tls') return `<sips:${where}>`;
    return `<sip:${where}${transportParam(t)}>`;
  }

  /** Whether the dialog was set up with a sips: Request-URI (the UAS side); ours use sip: with transport=tls. */
  protected secureScheme(): boolean {
    return false;
  }

  /** Where our in-dialog requests go when the peer's Contact names a host we cannot resolve. */
  protected abstract fallbackHop(): Hop;

  /** Sends `event` to the machine after `ms` (restarting a timer of the same name). */
  protected after(name: string, ms: number, event: CallMachineEvent): void {
    this.#timers.set(name, ms, () => this.send(event));
  }

  protected cancel(name: string): void {
    this.#timers.clear(name);
  }

  /** Runs `fn` after `ms` on the call's clock (restarting a timer of the same name); cleared when the call ends. */
  protected runAfter(name: string, ms: number, fn: () => void): void {
    this.#timers.set(name, ms, fn);
  }

  /** A PRACK (RFC 3262): only an incoming call sends reliable provisional responses to acknowledge. */
  protected onPrack(_req: ParsedRequest, tx: ServerTransaction): void {
    this.env.core.respond(tx, 481, {
      reason: 'Call/Transaction Does Not Exist (no reliable response pending)',
    });
  }

  /** The 2xx just sent through `tx` is retransmitted until its ACK (the dialog layer's AckWaits). */
  protected awaitAck(tx: ServerTransaction, ok: SipResponse, onGiveUp: () => void): void {
    this.#acks.wait(tx.request.cseq.seq, ok, (r) => tx.respond(r), onGiveUp);
  }

  /** An ACK for a 2xx of ours: stops its retransmission; true when one was waiting for it. */
  protected acked(cseq: number): boolean {
    return this.#acks.ack(cseq);
  }

  #makeHost(): DialogHost {
    const self = this;
    return {
      callId: this.callId,
      get core() {
        return self.env.core;
      },
      settings: this.env.settings,
      log: this.log,
      usage: this.usage,
      contact: () => this.contact(),
      send: (e) => this.send(e),
      emit: (e) => this.env.emit(e),
      after: (name, ms, e) => this.after(name, ms, e),
      cancel: (name) => this.cancel(name),
    };
  }

  /** Hold or resume: a re-INVITE whose offer has the direction the hold region now asks for. */
  #sendDirection(hold: boolean): void {
    // the offer names the direction asked for: the machine is entering holding or resuming
    const sent = this.#reinviteOut.send(
      [],
      (status, r) => {
        if (status >= 200 && status < 300 && r) this.send({ type: 'sip.reinviteDone' });
        // otherwise "the session parameters MUST remain unchanged" (14.1): the machine goes back
        else this.send({ type: 'sip.reinviteFailed', status });
      },
      hold,
    );
    this.log.info({ hold }, hold ? 'putting the call on hold' : 'resuming the call');
    // an INVITE of ours or theirs is in flight: the same as a 491, tried again shortly
    if (!sent) queueMicrotask(() => this.send({ type: 'sip.reinviteFailed', status: 491 }));
  }

  /**
   * Stops the call where it stands (the relay shutting down after its grace period): the actor, and with it
   * everything the call had running, its timers and its 2xx retransmissions, which `ended` would have
   * cleared had the call got there.
   */
  stop(): void {
    this.actor.stop();
    this.#timers.clearAll();
    this.#acks.close();
  }

  private commonActions(): Partial<MachineActions> {
    return {
      sendBye: () => this.sendBye(),
      stopTimers: () => {
        this.#timers.clearAll();
        this.#acks.close();
      },
      emitDtmf: (_, params) => this.env.emit({ type: 'call.dtmf', callId: this.callId, digit: params.digit }),
      sendRefer: (_, params) => this.#transferOut.refer(params.target),
      endTransfer: () => this.cancel('transfer'),
      emitTransfer: (_, params) =>
        this.env.emit({
          type: 'call.transfer',
          callId: this.callId,
          target: this.#transferOut.target,
          ...params,
        }),
      startReferredCall: () => this.#transferIn?.start(),
      emitReferred: (_, params) =>
        this.env.emit({
          type: 'call.referred',
          callId: this.callId,
          target: this.#transferIn?.target ?? '',
          ...(this.#transferIn?.newCallId ? { newCallId: this.#transferIn.newCallId } : {}),
          ...params,
        }),
      sendRefresh: () => this.sessionTimer.refresh(this.peerAllow.includes('UPDATE')),
      sendHold: () => this.#sendDirection(true),
      sendResume: () => this.#sendDirection(false),
      scheduleReinviteRetry: () =>
        // RFC 3261 14.1: we own the Call-ID of the calls we placed
        this.after('reinviteRetry', glareDelayMs(this.direction === 'outgoing'), {
          type: 'timer.reinviteRetry',
        }),
      emitHold: (_, params) => this.env.emit({ type: 'call.hold', callId: this.callId, ...params }),
      emit: ({ context }, params) => {
        const e = this.describe(params.type, context);
        if (e) this.env.emit(e);
      },
    };
  }

  /** BYE through a client transaction; its final answer (or timeout) is 'sip.byeDone'. */
  protected sendBye(): void {
    // its final answer, a timeout or a transport error all end the wait
    if (!this.usage.request('BYE', {}, () => this.send({ type: 'sip.byeDone' })))
      this.send({ type: 'sip.byeDone' });
  }

  /** A request inside this dialog (the manager matched Call-ID and tags): see in-dialog.ts. */
  onInDialogRequest(req: ParsedRequest, tx: ServerTransaction): void {
    this.#inDialog.onRequest(req, tx);
  }

  /** An ACK that matched this dialog. */
  onAck(ack: ParsedRequest): void {
    this.#inDialog.ackForReinvite(ack);
  }

  /** An ACK inside the dialog; true when it was for a re-INVITE (the subclass handles the first one). */
  protected ackForReinvite(ack: ParsedRequest): boolean {
    return this.#inDialog.ackForReinvite(ack);
  }

  protected respondWithSdp(
    tx: ServerTransaction,
    sdp: string | undefined,
    extra: ReadonlyArray<readonly [string, string]> = [],
  ): SipResponse {
    return this.env.core.respond(tx, 200, {
      ...(this.dialog ? { toTag: this.dialog.localTag } : {}),
      headers: [
        ...recordRouteHeaders(tx.request),
        ['Contact', this.contact()],
        ['Allow', this.env.core.allow],
        ['Supported', this.env.core.supported],
        ...extra,
        ...(sdp === undefined ? [] : [['Content-Type', 'application/sdp'] as [string, string]]),
      ],
      ...(sdp === undefined ? {} : { body: new TextEncoder().encode(sdp) }),
    });
  }
}
