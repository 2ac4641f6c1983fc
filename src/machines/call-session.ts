import { randomBytes } from 'node:crypto';
import { type Actor, createActor, type InspectionEvent } from 'xstate';
import type { Logger } from '../kernel/logger.ts';
import { masterKeyLength, SRTP_SUITES, type SrtpSuite } from '../rtp/srtp.ts';
import {
  answerOffer,
  type CodecName,
  chooseMedia,
  createOffer,
  type Negotiated,
  type NegotiationOptions,
  type OfferedCrypto,
  offerCrypto,
  parseSdp,
  type SessionDescription,
  type SrtpPolicy,
  sdpOf,
} from '../sdp/index.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import { AckWaits } from '../sip/dialog/ack-waits.ts';
import {
  type Dialog,
  type Hop,
  inDialogRequest,
  nextHop,
  receiveInDialog,
  recordRouteHeaders,
} from '../sip/dialog/dialog.ts';
import { readReferNotify, referSubSuppressed } from '../sip/dialog/refer.ts';
import { reinviteRefusal } from '../sip/dialog/reinvite.ts';
import { dtmfOfInfo } from '../sip/message/dtmf-relay.ts';
import { bracket } from '../sip/message/host.ts';
import { newBranch } from '../sip/message/ids.ts';
import { parseNameAddr } from '../sip/message/name-addr.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import type { SipResponse } from '../sip/message/types.ts';
import { serializeUri } from '../sip/message/uri.ts';
import { type Clock, TimerSet } from '../sip/transaction/clock.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { TimerTable } from '../sip/transaction/timers.ts';
import { type TransportName, transportParam } from '../sip/transport/transport.ts';
import { type CallContext, type CallMachineEvent, callMachine, type EmittedType } from './call.machine.ts';
import type { CallEvent } from './call-events.ts';

/** One call's RTP/RTCP port pair (bound sockets live in src/io; the engine only needs the numbers). */
export interface MediaPorts {
  readonly rtpPort: number;
  readonly rtcpPort: number;
}

export interface CallSettings {
  readonly autoAnswer: boolean;
  readonly ringDelayMs: number;
  readonly ringTimeoutMs: number;
  readonly codecs: readonly CodecName[];
  readonly codecOrder: 'offer' | 'local';
  /** Address in our SDP (c=, o=). */
  readonly mediaAddress: string;
  /** User part of our Contact. */
  readonly contactUser: string;
  /** Why RTP may not go to an SDP's address (our own sockets, a subnet broadcast); see chooseMedia. */
  readonly refuseRemote?: (address: string, port: number) => string | undefined;
  /** SRTP (off, offer, require); absent: off. */
  readonly srtp?: SrtpPolicy['mode'];
  /** The SRTP suites we take and offer, ours in order of preference; absent: all we do. */
  readonly srtpSuites?: readonly SrtpSuite[];
  /** How long a transfer we asked for may go without its outcome (TRANSFER_TIMEOUT_S); absent: 60 s. */
  readonly transferTimeoutMs?: number;
}

/** How a call negotiates media: our codecs and order, where RTP may not go, and SRTP on its transport. */
export function negotiationOptions(
  s: CallSettings,
  transport: TransportName | undefined,
  offered?: readonly OfferedCrypto[],
): NegotiationOptions {
  return {
    codecs: s.codecs,
    order: s.codecOrder,
    ...(s.refuseRemote ? { refuseRemote: s.refuseRemote } : {}),
    srtp: {
      mode: s.srtp ?? 'off',
      secure: transport === 'tls',
      suites: s.srtpSuites ?? SRTP_SUITES,
      newKey: (suite) => new Uint8Array(randomBytes(masterKeyLength(suite))),
      ...(offered ? { offered } : {}),
    },
  };
}

export interface SessionEnv {
  readonly core: SipCore;
  readonly clock: Clock;
  readonly timers: TimerTable;
  readonly settings: CallSettings;
  readonly log: Logger;
  emit(event: CallEvent): void;
  registerDialog(session: CallSession): void;
  ended(session: CallSession): void;
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
  dialog: Dialog | undefined;
  media: Negotiated | undefined;
  protected readonly log: Logger;
  protected readonly sessionId = String(Math.floor(Math.random() * 1e9));
  protected sdpVersion = 0;
  /** The call's own timers (ring); its 2xx retransmissions are the dialog layer's (#acks). */
  readonly #timers: TimerSet;
  readonly #acks: AckWaits;
  readonly #impl: Record<string, ActionImpl>;
  /** An incoming re-INVITE whose 200 awaits its ACK. */
  #reinvite: { cseq: number; offerInAck: boolean } | undefined;
  /** The transfer we asked for: its target, and whether its REFER subscription still takes NOTIFYs. */
  #transfer: { target: string; subscribed: boolean } | undefined;

  constructor(
    readonly callId: string,
    readonly direction: 'incoming' | 'outgoing',
    readonly ports: MediaPorts,
    protected readonly env: SessionEnv,
  ) {
    this.log = env.log.child({ callId });
    this.#timers = new TimerSet(env.clock);
    this.#acks = new AckWaits(env.clock, env.timers);
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

  /** State as a dotted path, e.g. "ringing.alerting". */
  get state(): string {
    const walk = (v: unknown): string =>
      typeof v === 'string' ? v : Object.entries(v as object).map(([k, sub]) => `${k}.${walk(sub)}`)[0]!;
    return walk(this.actor.getSnapshot().value);
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

  /** The 2xx just sent through `tx` is retransmitted until its ACK (the dialog layer's AckWaits). */
  protected awaitAck(tx: ServerTransaction, ok: SipResponse, onGiveUp: () => void): void {
    this.#acks.wait(tx.request.cseq.seq, ok, (r) => tx.respond(r), onGiveUp);
  }

  /** An ACK for a 2xx of ours: stops its retransmission; true when one was waiting for it. */
  protected acked(cseq: number): boolean {
    return this.#acks.ack(cseq);
  }

  private commonActions(): Partial<MachineActions> {
    return {
      sendBye: () => this.sendBye(),
      stopTimers: () => {
        this.#timers.clearAll();
        this.#acks.close();
      },
      emitDtmf: (_, params) => this.env.emit({ type: 'call.dtmf', callId: this.callId, digit: params.digit }),
      sendRefer: (_, params) => this.#sendRefer(params.target),
      endTransfer: () => this.cancel('transfer'),
      emitTransfer: (_, params) =>
        this.env.emit({
          type: 'call.transfer',
          callId: this.callId,
          target: this.#transfer?.target ?? '',
          ...params,
        }),
      emit: ({ context }, params) => {
        const e = this.describe(params.type, context);
        if (e) this.env.emit(e);
      },
    };
  }

  /** BYE through a client transaction; its final answer (or timeout) is 'sip.byeDone'. */
  protected sendBye(): void {
    if (!this.dialog) {
      this.send({ type: 'sip.byeDone' });
      return;
    }
    const hop = nextHop(this.dialog, this.fallbackHop());
    const via = this.env.core.sentBy(hop.transport);
    const built = inDialogRequest(this.dialog, 'BYE', { via, branch: newBranch() });
    this.dialog = built.dialog;
    const done = () => this.send({ type: 'sip.byeDone' });
    this.env.core.sendRequest(built.request, hop, {
      onResponse: (r) => {
        if (r.msg.status >= 200) done();
      },
      onTimeout: done,
      onTransportError: done,
    });
  }

  /**
   * Blind transfer: REFER in this dialog (RFC 3515 2.4.1) naming the target in Refer-To, and us in
   * Referred-By (RFC 3892). The REFER's answer and the NOTIFYs of its implicit subscription drive the machine.
   */
  #sendRefer(target: string): void {
    const d = this.dialog;
    this.#transfer = { target, subscribed: true };
    this.after('transfer', this.env.settings.transferTimeoutMs ?? 60_000, { type: 'timer.transfer' });
    if (!d) return;
    const core = this.env.core;
    const hop = nextHop(d, this.fallbackHop());
    const me = parseNameAddr(d.localParty);
    const built = inDialogRequest(d, 'REFER', {
      via: core.sentBy(hop.transport),
      branch: newBranch(),
      // RFC 3515 2.4.1: a REFER makes a subscription, so it carries a Contact (RFC 6665 7.1)
      contact: this.contact(),
      headers: [
        ['Refer-To', `<${target}>`],
        ...(me.ok ? [['Referred-By', `<${serializeUri(me.value.uri)}>`] as [string, string]] : []),
        ['Allow', core.allow],
      ],
    });
    this.dialog = built.dialog;
    const failed = (status: number, reason: string) => {
      if (this.#transfer) this.#transfer.subscribed = false;
      this.send({ type: 'sip.transferFailed', status, reason });
    };
    core.sendRequest(built.request, hop, {
      onResponse: (r) => {
        const status = r.msg.status;
        if (status < 200) return;
        if (status >= 300) return failed(status, r.msg.reason);
        this.send({ type: 'sip.referAccepted' });
        // RFC 4488 4: "Refer-Sub: false" in the 2xx: no NOTIFY will come; the transferee took the call over
        if (referSubSuppressed(r.msg)) {
          if (this.#transfer) this.#transfer.subscribed = false;
          this.send({ type: 'sip.transferDone', status });
        }
      },
      onTimeout: () => failed(408, 'Request Timeout'),
      onTransportError: () => failed(503, 'Service Unavailable'),
    });
  }

  /**
   * A NOTIFY about our REFER (RFC 3515 2.4.4): answered 200, its sipfrag moves the transfer on. A 2xx in it
   * means the transferee reached the target (2.4.5); 3xx-6xx, or a subscription ended without a final
   * status, means the transfer failed and the call stays ours. A NOTIFY for no subscription gets 481 (RFC
   * 6665 4.1.3).
   */
  #onNotify(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.env.core;
    const t = this.#transfer;
    if (!t?.subscribed) {
      core.respond(tx, 481, { reason: 'Subscription does not exist' });
      return;
    }
    const verdict = readReferNotify(req);
    if (!verdict.ok) {
      core.respond(tx, verdict.status, { reason: verdict.reason });
      return;
    }
    core.respond(tx, 200);
    const { frag, terminated } = verdict.notify;
    if (terminated) t.subscribed = false;
    if (frag && frag.status >= 200 && frag.status < 300)
      this.send({ type: 'sip.transferDone', status: frag.status });
    else if (frag && frag.status >= 300) this.send({ type: 'sip.transferFailed', ...frag });
    else if (terminated)
      this.send({
        type: 'sip.transferFailed',
        status: 487,
        reason: 'subscription ended without a final status',
      });
    else if (frag && frag.status > 100) this.send({ type: 'sip.transferProgress', status: frag.status });
  }

  /** A request inside this dialog (the manager matched Call-ID and tags). */
  onInDialogRequest(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.env.core;
    if (this.dialog) {
      const verdict = receiveInDialog(this.dialog, req);
      if (!verdict.ok) {
        core.respond(tx, verdict.status, { reason: verdict.reason });
        return;
      }
      this.dialog = verdict.dialog;
    }
    switch (req.msg.method) {
      case 'BYE':
        core.respond(tx, 200);
        this.send({ type: 'sip.bye' });
        return;
      case 'INVITE':
        this.onReinvite(req, tx);
        return;
      case 'INFO':
        core.respond(tx, 200);
        this.onInfo(req);
        return;
      case 'NOTIFY':
        this.#onNotify(req, tx);
        return;
      default:
        core.respond(tx, 200, { headers: [['Allow', this.env.core.allow]] });
    }
  }

  /** SIP INFO DTMF (application/dtmf-relay "Signal=5"), as many PBXs send it. */
  private onInfo(req: ParsedRequest): void {
    const digit = dtmfOfInfo(req.msg);
    if (digit) this.send({ type: 'media.dtmf', digit });
  }

  /**
   * re-INVITE (hold, resume, new media address): 200 with a fresh answer, or our offer when it came without
   * one (the answer then comes in the ACK); refused with 491 while the dialog is busy (reinvite.ts).
   */
  private onReinvite(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.env.core;
    const refusal = reinviteRefusal({
      established: this.state.startsWith('established'),
      pending: !!this.#reinvite,
    });
    if (refusal) {
      core.respond(tx, refusal.status, { headers: refusal.headers });
      return;
    }
    const offerText = sdpOf(req.msg);
    let sdp: string;
    if (offerText !== undefined) {
      const offer = parseSdp(offerText);
      const answer = offer.ok ? answerOffer(offer.value, this.localMedia(), this.negotiation()) : offer;
      if (!answer.ok) {
        core.respond(tx, 488, { reason: `Not Acceptable Here (${answer.error})` });
        return;
      }
      this.setMedia(answer.value);
      sdp = answer.value.sdp;
    } else {
      sdp = this.makeOffer();
    }
    const ok = this.respondWithSdp(tx, sdp);
    this.#reinvite = { cseq: req.cseq.seq, offerInAck: offerText === undefined };
    this.awaitAck(tx, ok, () => {
      this.#reinvite = undefined;
      this.send({ type: 'client.hangup' });
    });
  }

  /** An ACK that matched this dialog. */
  onAck(ack: ParsedRequest): void {
    this.ackForReinvite(ack);
  }

  /** An ACK inside the dialog; true when it was for a re-INVITE (the subclass handles the first one). */
  protected ackForReinvite(ack: ParsedRequest): boolean {
    const r = this.#reinvite;
    if (!r || ack.cseq.seq !== r.cseq) return false;
    this.acked(r.cseq);
    this.#reinvite = undefined;
    if (r.offerInAck) {
      const text = sdpOf(ack.msg);
      const answer = text === undefined ? undefined : parseSdp(text);
      if (answer?.ok) this.acceptAnswer(answer.value);
    }
    return true;
  }

  /** The answer to an offer we made (in a 2xx, 183 or ACK): true, or why it is not acceptable. */
  protected acceptAnswer(sdp: SessionDescription): true | string {
    const n = chooseMedia(sdp, this.negotiation(this.#offered ?? []));
    if (!n.ok) return n.error;
    this.setMedia(n.value);
    return true;
  }

  protected respondWithSdp(tx: ServerTransaction, sdp: string): SipResponse {
    return this.env.core.respond(tx, 200, {
      ...(this.dialog ? { toTag: this.dialog.localTag } : {}),
      headers: [
        ...recordRouteHeaders(tx.request),
        ['Contact', this.contact()],
        ['Allow', this.env.core.allow],
        ['Content-Type', 'application/sdp'],
      ],
      body: new TextEncoder().encode(sdp),
    });
  }

  protected localMedia() {
    this.sdpVersion++;
    return {
      address: this.env.settings.mediaAddress,
      port: this.ports.rtpPort,
      sessionId: this.sessionId,
      sessionVersion: this.sdpVersion,
    };
  }

  protected negotiation(offered?: readonly OfferedCrypto[]): NegotiationOptions {
    return negotiationOptions(this.env.settings, this.fallbackHop().transport, offered);
  }

  /** The crypto attributes of our last offer (its answer picks one of them). */
  #offered: readonly OfferedCrypto[] | undefined;

  /**
   * Our offer (a delayed-offer INVITE's 200, a re-INVITE without SDP, a call out): RTP/SAVP with SDES keys
   * when SRTP is on and the signalling is TLS (RFC 4568 8.3), else plain RTP/AVP.
   */
  protected makeOffer(plain = false): string {
    const policy = this.negotiation().srtp;
    const crypto = !plain && policy && policy.mode !== 'off' && policy.secure ? offerCrypto(policy) : [];
    this.#offered = crypto;
    return createOffer(this.localMedia(), this.env.settings.codecs, 'sendrecv', crypto);
  }

  protected setMedia(n: Negotiated): void {
    this.media = n;
    this.env.emit({
      type: 'call.media',
      callId: this.callId,
      codec: n.codec,
      payloadType: n.payloadType,
      dtmfPayloadType: n.dtmfPayloadType,
      localPort: this.ports.rtpPort,
      remote: n.remote,
      direction: n.direction,
      signalling: this.fallbackHop().host,
      ...(n.srtp ? { srtp: n.srtp.suite } : {}),
    });
  }
}
