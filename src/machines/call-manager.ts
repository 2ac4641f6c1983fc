import { Subject } from 'rxjs';
import type { InspectionEvent } from 'xstate';
import { LogLimiter } from '../kernel/log-limiter.ts';
import type { Logger } from '../kernel/logger.ts';
import type { OutboundChoice } from '../routing/outbound.ts';
import { type CallDecision, type CallFacts, type CallPlan, NO_ROUTE } from '../routing/plan.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import type { TransactionUser } from '../sip/core/tu.ts';
import { dialogKey } from '../sip/dialog/dialog.ts';
import { replacingReferTo } from '../sip/dialog/refer.ts';
import type { TargetPattern, TransferTarget } from '../sip/dialog/transfer-target.ts';
import { header } from '../sip/message/headers.ts';
import { newCallId } from '../sip/message/ids.ts';
import type { ParsedRequest, ParsedResponse } from '../sip/message/parse.ts';
import { uriUser } from '../sip/message/uri.ts';
import type { Clock } from '../sip/transaction/clock.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { TimerTable } from '../sip/transaction/timers.ts';
import { viaSource } from '../sip/transport/via-route.ts';
import { SettingUp, screenInvite } from './admission.ts';
import { AttendedTransfers } from './attended-transfers.ts';
import type { CallEvent } from './call-events.ts';
import type { CallSession, SessionEnv } from './call-session.ts';
import { type CallSettings, type MediaPorts, negotiationOptions } from './call-settings.ts';
import { IncomingCall } from './incoming-call.ts';
import { OutboundCalls } from './outbound-calls.ts';
import { type DialTarget, OutgoingCall } from './outgoing-call.ts';
import { DEFAULT_SESSION_TIMERS } from './session-refresh.ts';

/**
 * The media side's RTP port pairs, leased per call: it owns the sockets and closes them (with whatever
 * media the call still has) when the call is released. The call manager only sees the numbers.
 */
export interface PortAllocator {
  allocate(callId: string): Promise<MediaPorts | undefined>;
  release(callId: string): Promise<void>;
}

export interface CallManagerDeps {
  readonly core: () => SipCore;
  readonly clock: Clock;
  readonly timers: TimerTable;
  readonly settings: CallSettings;
  readonly ports: PortAllocator;
  readonly log: Logger;
  readonly maxCalls: number;
  /**
   * Incoming calls one source IP may have that are not established yet (ringing, or answered and waiting
   * for the ACK); beyond it 503. Unset = no limit but MAX_CALLS.
   */
  readonly maxSettingUpPerSource?: number;
  /** Source filter for new INVITEs (SIP_ALLOWED_SOURCES); absent = everyone. */
  readonly allowSource?: (address: string) => boolean;
  /** Outgoing calls: the upstream server, our From and credentials. */
  readonly upstream: Omit<DialTarget, 'uri'> & { readonly uriHost: string };
  readonly inspect?: (event: InspectionEvent, callId: string) => void;
  /** TRANSFER_ALLOWED_TARGETS: where calls may be transferred (nothing when empty). */
  readonly transferTargets?: readonly TargetPattern[];
  /**
   * What each incoming call gets (routes file, webhook): asked once the INVITE is acceptable, before any
   * port is taken. Absent: every call is the clients' (AUTO_ANSWER), as before routing.
   */
  readonly route?: (facts: CallFacts) => CallDecision | Promise<CallDecision>;
  /** What calls we place get when their caller names nothing (without a routes file: the environment's). */
  readonly outgoingPlan?: CallPlan;
  /**
   * Which trunk a call out takes, or why it may not be placed (deny list, trunk limits): the routes
   * file's trunks. Absent: every call goes to the upstream server.
   */
  readonly outbound?: (
    number: string,
    trunk: string | undefined,
    liveCalls: (trunk: string) => number,
  ) => OutboundChoice;
  /**
   * The same policy for a call out to a URI (a REFER received, a warm transfer's consult call) and a REFER
   * we send (`limits` false: the peer places that call): deny list on its user, a trunk's host is that
   * trunk, whose limits count it while it lives.
   */
  readonly outboundTarget?: (
    user: string | undefined,
    host: string,
    liveCalls: (trunk: string) => number,
    limits: boolean,
  ) => OutboundChoice;
}

/** How a client places a call: which trunk (default: by prefix), our From user, and what the call gets. */
export interface DialOptions {
  readonly trunk?: string | undefined;
  readonly from?: string | undefined;
  readonly plan?: CallPlan | undefined;
}

export type TransferResult =
  | { ok: true; target: string }
  | {
      ok: false;
      code: 'unknown_call' | 'invalid_state' | 'bad_target' | 'forbidden_target';
      message: string;
    };

/** An INVITE answered with a final error before it became a call. */
export interface RefusedCall {
  readonly callId: string;
  /** The From and To header values. */
  readonly from: string;
  readonly to: string;
  readonly source: string;
  readonly status: number;
  readonly reason: string | undefined;
  /** The route that refused it, if a route did. */
  readonly route: string | undefined;
}

export type DialResult = { ok: true; callId: string } | { ok: false; status: number; reason: string };

/**
 * The transaction user for calls: routes each request to its dialog (Call-ID + tags), spawns one call actor
 * per new INVITE, forgets it when it ends, and offers the API clients drive (dial, answer, reject, hangup).
 */
export class CallManager implements TransactionUser {
  readonly events$ = new Subject<CallEvent>();
  /** INVITEs refused before they became calls (no route, a trunk's sources, limits, no common codec). */
  readonly refused$ = new Subject<RefusedCall>();
  /** A call we place, before any of its events (records and status callbacks start it here). */
  readonly placed$ = new Subject<{ readonly callId: string }>();
  readonly #deps: CallManagerDeps;
  /** Every call out passes its policy (deny list, trunks and their limits, transfer targets). */
  readonly #out: OutboundCalls;
  readonly #calls = new Map<string, CallSession>();
  readonly #byDialog = new Map<string, CallSession>();
  readonly #byInviteTx = new Map<string, IncomingCall>();
  /** Calls being set up (ports being bound): they count against MAX_CALLS. */
  #pending = 0;
  /** Call-IDs of incoming calls whose ports are being bound (not yet in #calls). */
  readonly #binding = new Set<string>();
  /** Incoming calls not established yet, per source IP. */
  readonly #settingUp = new SettingUp();
  #accepting = true;
  readonly #env: SessionEnv;
  /** Warm transfers (the relay calls the target, then joins the two calls); the media manager bridges. */
  readonly warm: AttendedTransfers;

  constructor(deps: CallManagerDeps) {
    this.#deps = deps;
    this.#out = new OutboundCalls({
      log: deps.log,
      upstream: deps.upstream,
      transferTargets: deps.transferTargets,
      outgoingPlan: deps.outgoingPlan,
      contactUser: deps.settings.contactUser,
      outbound: deps.outbound,
      outboundTarget: deps.outboundTarget,
      liveCallsOut: (trunk) => {
        let n = 0;
        for (const c of this.#calls.values()) if (c.direction === 'outgoing' && c.plan?.trunk === trunk) n++;
        return n;
      },
    });
    this.#strangerLog = new LogLimiter(60_000, () => deps.clock.now());
    this.warm = new AttendedTransfers(
      {
        events$: this.events$,
        checkTransfer: (t) => this.checkTransfer(t),
        dialUri: (t) => this.dialUri(t),
        hangup: (id) => this.hangup(id),
        announce: (e) => this.announce(e),
        established: (id) => this.#calls.get(id)?.state === 'established',
        referReplacing: (caller, consult) => {
          const a = this.#calls.get(caller);
          const b = this.#calls.get(consult);
          if (!a?.peerTakesRefer || !b?.peerTakesReplaces || !b.dialog) return false;
          if (!a.in({ established: { transfer: 'active' } })) return false;
          a.send({ type: 'client.transfer', target: replacingReferTo(b.dialog.remoteTarget, b.dialog) });
          return true;
        },
      },
      deps.log,
    );
    this.#env = {
      get core() {
        return deps.core();
      },
      clock: deps.clock,
      timers: deps.timers,
      settings: deps.settings,
      log: deps.log,
      emit: (e) => {
        if (e.type === 'call.answered' || e.type === 'call.ended') this.#settingUp.done(e.callId);
        this.events$.next(e);
      },
      registerDialog: (s) => {
        if (s.dialog)
          this.#byDialog.set(dialogKey(s.dialog.callId, s.dialog.localTag, s.dialog.remoteTag), s);
      },
      ended: (s) => void this.#forget(s),
      referredCalls: {
        resolve: (target) => this.#out.resolve(target),
        call: (target, referredBy, progress) => this.#callReferred(target, referredBy, progress),
      },
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
    };
  }

  /** A call event from outside the calls themselves (a warm transfer's progress): to every listener. */
  announce(e: CallEvent): void {
    this.events$.next(e);
  }

  /**
   * Calls a transfer target (a number at the upstream server or a SIP URI in TRANSFER_ALLOWED_TARGETS): the
   * consult call of a warm transfer.
   */
  async dialUri(target: string): Promise<DialResult> {
    const r = this.#out.resolve(target);
    if (!r.ok) return { ok: false, status: 403, reason: r.error.message };
    return this.#placeTarget(r.value, []);
  }

  /** Places a call to a resolved transfer target through the outbound policy (OutboundCalls.uri). */
  #placeTarget(
    target: TransferTarget,
    headers: Array<[string, string]>,
    created?: (callId: string) => void,
  ): Promise<DialResult> {
    const v = this.#out.uri(target, headers);
    if (!v.ok) return Promise.resolve(v);
    return this.#out.counted(v.call, () => this.#place(v.call.target, v.call.label, created, v.call.plan));
  }

  /** Live calls (tests and metrics). */
  get size(): number {
    return this.#calls.size;
  }

  get dialogs(): number {
    return this.#byDialog.size;
  }

  list(): Array<{ callId: string; direction: string; state: string }> {
    return [...this.#calls.values()].map((c) => ({
      callId: c.callId,
      direction: c.direction,
      state: c.state,
    }));
  }

  call(callId: string): CallSession | undefined {
    return this.#calls.get(callId);
  }

  // --- TransactionUser -------------------------------------------------------------------------------

  onRequest(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.#deps.core();
    if (req.toTag === undefined) {
      if (req.msg.method === 'INVITE') {
        this.#incoming(req, tx).catch((e: unknown) => {
          this.#deps.log.error(
            { callId: req.callId, err: e instanceof Error ? e.stack : String(e) },
            'incoming call failed',
          );
          if (tx.state === 'proceeding') core.respond(tx, 500);
        });
        return;
      }
      // RFC 3261 12.2.2 / 8.2: a BYE or INFO outside any dialog
      core.respond(tx, 481);
      return;
    }
    const session = this.#byDialog.get(dialogKey(req.callId, req.toTag, req.fromTag ?? ''));
    if (!session) {
      core.respond(tx, 481);
      return;
    }
    session.onInDialogRequest(req, tx);
  }

  onCancel(invite: ServerTransaction): void {
    const call = this.#byInviteTx.get(invite.key);
    if (call) call.onCancel();
    else this.#deps.core().respond(invite, 487); // still binding ports, or never became a call
  }

  onAck(ack: ParsedRequest): void {
    const session = this.#byDialog.get(dialogKey(ack.callId, ack.toTag ?? '', ack.fromTag ?? ''));
    session?.onAck(ack);
  }

  onStrayResponse(res: ParsedResponse): void {
    // a 2xx retransmitted after the INVITE transaction ended: ACK it again (RFC 3261 13.2.2.4)
    if (res.msg.status < 200 || res.msg.status >= 300 || res.cseq.method !== 'INVITE') return;
    const session = this.#byDialog.get(dialogKey(res.callId, res.fromTag ?? '', res.toTag ?? ''));
    if (session instanceof OutgoingCall) session.onResponse(res);
  }

  // --- client API --------------------------------------------------------------------------------------

  /**
   * Places a call to `number`: through its trunk (named, or by prefix; the routes file's), else through the
   * upstream server as sip:{number}@{SIP_SERVER_IP}:{SIP_TRANSFER_PORT}. The deny list and the trunk's
   * limits apply to every call out, whoever asks (legacy and JSON clients, the REST API).
   */
  async dial(number: string, opts: DialOptions = {}): Promise<DialResult> {
    // clients' numbers follow DIALLED_NUMBER (routing/number.ts) at the API's edge; here only what is safe
    // in a Request-URI's user part (the relay's own tests dial SIP users by name)
    if (!/^\+?[0-9A-Za-z*#._-]{1,64}$/.test(number))
      return { ok: false, status: 400, reason: 'invalid number' };
    if (opts.from !== undefined && !/^\+?[0-9A-Za-z*#._-]{1,64}$/.test(opts.from))
      return { ok: false, status: 400, reason: 'invalid from' };
    const v = this.#out.number(number, opts);
    if (!v.ok) return v;
    return this.#out.counted(v.call, () => this.#place(v.call.target, v.call.label, undefined, v.call.plan));
  }

  /** `created` hears the new call's id before it starts (so none of its events is missed). */
  async #place(
    target: DialTarget,
    label: string,
    created?: (callId: string) => void,
    plan: CallPlan | undefined = this.#deps.outgoingPlan,
  ): Promise<DialResult> {
    if (!this.#accepting) return { ok: false, status: 503, reason: 'shutting down' };
    if (this.#calls.size + this.#pending >= this.#deps.maxCalls)
      return { ok: false, status: 503, reason: 'too many calls' };
    this.#pending++;
    const callId = newCallId(this.#deps.core().local.host);
    const ports = await this.#deps.ports.allocate(callId).finally(() => this.#pending--);
    if (!ports) return { ok: false, status: 503, reason: 'no free RTP ports' };
    const call = new OutgoingCall(callId, target, ports, this.#env);
    call.plan = plan;
    this.#calls.set(callId, call);
    created?.(callId);
    this.placed$.next({ callId });
    this.#deps.log.info({ callId, to: label }, `call out: -> ${label}`);
    call.start();
    return { ok: true, callId };
  }

  /**
   * The call a REFER we took asks for (RFC 3515 2.4.3): to the target (its host when an IP address, else
   * through the upstream server), with the REFER's Referred-By (RFC 3892) and the Replaces its Refer-To
   * carried (RFC 3891). `progress` hears the 1xx and the final outcome (2xx when answered).
   */
  async #callReferred(
    target: TransferTarget,
    referredBy: string | undefined,
    progress: (status: number, reason: string) => void,
  ): Promise<string | undefined> {
    const headers: Array<[string, string]> = referredBy ? [['Referred-By', referredBy]] : [];
    let placed: string | undefined;
    const sub = this.events$.subscribe((e) => {
      if (!placed || e.callId !== placed) return;
      if (e.type === 'call.ringing') progress(e.status, e.status === 180 ? 'Ringing' : 'Session Progress');
      else if (e.type === 'call.answered') progress(200, 'OK');
      else if (e.type === 'call.failed') progress(e.status, e.reason);
      else if (e.type === 'call.ended') {
        progress(487, 'Request Terminated'); // ended before an answer (a no-op after one)
        sub.unsubscribe();
      }
    });
    const r = await this.#placeTarget(target, headers, (id) => {
      placed = id;
    });
    if (!r.ok) {
      sub.unsubscribe();
      progress(r.status, r.reason);
      return undefined;
    }
    return r.callId;
  }

  answer(callId: string): boolean {
    return this.#sendIf(callId, 'ringing.alerting', { type: 'client.answer' });
  }

  /** Who calls whom on a live call (From, and To or the Request-URI), and which way. */
  parties(callId: string): { from: string; to: string; direction: 'incoming' | 'outgoing' } | undefined {
    const c = this.#calls.get(callId);
    return c && { ...c.parties, direction: c.direction };
  }

  /** INVITEs refused because their source is none of ours (SIP_ALLOWED_SOURCES, trunks' sources). */
  strangersRefused = 0;
  readonly #strangerLog: LogLimiter;

  /**
   * An INVITE from an unknown source, answered 403: counted and logged at most once a minute, but neither
   * recorded nor called back one by one (a stranger's flood must not push real calls' events out of the
   * spool, nor write a CDR line each).
   */
  #stranger(source: string, why: string): void {
    this.strangersRefused++;
    this.#strangerLog.hit((suppressed) =>
      this.#deps.log.warn(
        { source, since: suppressed, total: this.strangersRefused },
        `INVITE from a source ${why}: 403 (logged once a minute; the count is in the metrics)`,
      ),
    );
  }

  /** An INVITE answered with a final error before it became a call. */
  #refused(
    req: ParsedRequest,
    source: string,
    status: number,
    reason: string | undefined,
    route: string | undefined,
  ): void {
    this.refused$.next({
      callId: req.callId,
      from: header(req.msg, 'from') ?? '',
      to: header(req.msg, 'to') ?? '',
      source,
      status,
      reason,
      route,
    });
  }

  /** What an incoming call's route decided (undefined for calls out and unknown calls). */
  plan(callId: string): CallPlan | undefined {
    return this.#calls.get(callId)?.plan;
  }

  /** The early media's greeting has been played: with AUTO_ANSWER the call is answered now. */
  earlyMediaPlayed(callId: string): void {
    if (this.#calls.get(callId)?.plan?.autoAnswer) this.answer(callId);
  }

  reject(callId: string, status = 486): boolean {
    return this.#sendIf(callId, 'ringing.alerting', { type: 'client.reject', status });
  }

  /** A key pressed on the phone (RTP telephone-event): the call reports it while it is up. */
  dtmf(callId: string, digit: string): void {
    this.#calls.get(callId)?.send({ type: 'media.dtmf', digit });
  }

  /** Whether `target` may be transferred to (TRANSFER_ALLOWED_TARGETS), without doing it. */
  checkTransfer(target: string): { ok: true; target: string } | { ok: false; message: string } {
    const r = this.#out.resolve(target);
    if (r.ok) return { ok: true, target: r.value.text };
    this.#deps.log.warn({ target: target.slice(0, 200), why: r.error.message }, 'transfer target refused');
    return { ok: false, message: r.error.message };
  }

  /**
   * Blind transfer of an established call to `target` (a number at the upstream server, or a SIP URI): the
   * target must be in TRANSFER_ALLOWED_TARGETS; the outcome comes as `call.transfer` events.
   */
  transfer(callId: string, target: string): TransferResult {
    const call = this.#calls.get(callId);
    if (!call) return { ok: false, code: 'unknown_call', message: `no call ${callId}` };
    const resolved = this.#out.resolve(target);
    if (!resolved.ok) {
      this.#deps.log.warn(
        { callId, target: target.slice(0, 200), why: resolved.error.message },
        'transfer refused',
      );
      return { ok: false, ...resolved.error };
    }
    if (!call.in({ established: { transfer: 'active' } })) {
      const message =
        call.state === 'established'
          ? 'a transfer is already under way'
          : `call is ${call.state}, not established`;
      return { ok: false, code: 'invalid_state', message };
    }
    this.#deps.log.info({ callId, target: resolved.value.text }, `transfer: REFER -> ${resolved.value.text}`);
    call.send({ type: 'client.transfer', target: resolved.value.text });
    return { ok: true, target: resolved.value.text };
  }

  /**
   * Puts an established call on hold (re-INVITE with a=sendonly, RFC 3264 8.4) or takes it off; the outcome
   * comes as a `call.hold` event. An error when the call is not in a state to do it.
   */
  hold(
    callId: string,
    on: boolean,
  ): { ok: true } | { ok: false; code: 'unknown_call' | 'invalid_state'; message: string } {
    const call = this.#calls.get(callId);
    if (!call) return { ok: false, code: 'unknown_call', message: `no call ${callId}` };
    const from = on ? 'unheld' : 'held';
    if (!call.in({ established: { hold: from } }))
      return {
        ok: false,
        code: 'invalid_state',
        message:
          call.state === 'established'
            ? `the call is not ${on ? 'active' : 'on hold'}`
            : `call is ${call.state}`,
      };
    call.send({ type: on ? 'client.hold' : 'client.resume' });
    return { ok: true };
  }

  /** Hangs up a call (`reason` rtp-timeout: the media watchdog's, not a client's). */
  hangup(callId: string, reason?: 'rtp-timeout'): boolean {
    const call = this.#calls.get(callId);
    if (!call || call.done) return false;
    call.send(reason ? { type: 'client.hangup', reason } : { type: 'client.hangup' });
    return true;
  }

  /** Stops taking calls, hangs up every call and waits (bounded) until they are gone. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    this.#accepting = false;
    for (const c of this.#calls.values()) c.send({ type: 'client.hangup' });
    // wait for the last call's end (its BYE answered), the deadline or hurry(), whichever comes first
    if (this.#calls.size > 0 && !this.#hurry && timeoutMs > 0)
      await new Promise<void>((resolve) => {
        const timer = this.#deps.clock.setTimeout(() => this.#wake(), timeoutMs);
        this.#wake = () => {
          this.#wake = () => {};
          this.#deps.clock.clearTimeout(timer);
          resolve();
        };
      });
    for (const c of [...this.#calls.values()]) {
      c.stop();
      await this.#forget(c);
    }
  }

  #hurry = false;
  /** Ends the shutdown's wait (the last call ended, the deadline passed, or hurry()). */
  #wake: () => void = () => {};
  /** During shutdown: stop waiting for the BYEs' answers (they have been sent already). */
  hurry(): void {
    this.#hurry = true;
    this.#wake();
  }

  #sendIf(callId: string, state: string, event: Parameters<CallSession['send']>[0]): boolean {
    const call = this.#calls.get(callId);
    if (!call || call.state !== state) return false;
    call.send(event);
    return true;
  }

  async #incoming(req: ParsedRequest, tx: ServerTransaction): Promise<void> {
    const core = this.#deps.core();
    const log = this.#deps.log.child({ callId: req.callId });
    const source = viaSource(req.via[0]!).host;
    // a final answer before the INVITE became a call: records and status callbacks hear of it too
    const refuse = (status: number, opts: Parameters<SipCore['respond']>[2] = {}, route?: string) => {
      core.respond(tx, status, opts);
      this.#refused(req, source, status, opts?.reason, route);
    };
    const screened = screenInvite({
      msg: req.msg,
      source,
      allowSource: this.#deps.allowSource,
      accepting: this.#accepting,
      live: this.#calls.size + this.#pending,
      maxCalls: this.#deps.maxCalls,
      negotiation: negotiationOptions(this.#deps.settings, req.source?.transport),
      sessionTimers: this.#deps.settings.sessionTimers ?? DEFAULT_SESSION_TIMERS,
      settingUpFromSource: this.#settingUp.count(source),
      maxSettingUpPerSource: this.#deps.maxSettingUpPerSource,
      callIdInUse: this.#calls.has(req.callId) || this.#binding.has(req.callId),
    });
    if (screened.kind === 'refuse') {
      if (screened.log) log[screened.log.level](screened.log.fields, screened.log.msg);
      const opts = {
        ...(screened.reason ? { reason: screened.reason } : {}),
        ...(screened.headers ? { headers: screened.headers } : {}),
      };
      if (screened.as === 'record') refuse(screened.status, opts);
      else core.respond(tx, screened.status, opts);
      if (screened.as === 'stranger') this.#stranger(source, 'outside SIP_ALLOWED_SOURCES');
      return;
    }
    const offer = screened.offer;
    // from here the call counts against MAX_CALLS and its source's limit, while it is routed (a webhook
    // may take seconds) and its ports are bound
    this.#pending++;
    this.#binding.add(req.callId);
    this.#settingUp.add(req.callId, source);
    let plan: CallPlan | undefined;
    let ports: MediaPorts | undefined;
    try {
      plan = await this.#plan(req, source, tx, log, refuse);
      if (plan) ports = await this.#deps.ports.allocate(req.callId);
    } finally {
      this.#pending--;
      this.#binding.delete(req.callId);
      if (!ports) this.#settingUp.done(req.callId);
    }
    if (!plan) return;
    if (!ports) {
      log.warn({}, 'no free RTP port pair: 503');
      refuse(503, {
        reason: 'Service Unavailable (no free RTP ports)',
        headers: [['Retry-After', '5']],
      });
      return;
    }
    if (tx.state !== 'proceeding') {
      await this.#deps.ports.release(req.callId); // cancelled while we bound the ports
      return;
    }
    const call = new IncomingCall(req, tx, offer, ports, this.#env, plan);
    this.#calls.set(call.callId, call);
    this.#byInviteTx.set(tx.key, call);
    call.start();
  }

  /** The route's decision; a rejection (or a CANCEL while it was made) answered here, and undefined. */
  async #plan(
    req: ParsedRequest,
    source: string,
    tx: ServerTransaction,
    log: Logger,
    refuse: (status: number, opts: { reason?: string }, route?: string) => void,
  ): Promise<CallPlan | undefined> {
    const route = this.#deps.route;
    const decision: CallDecision = route
      ? await route({
          callId: req.callId,
          requestUser: uriUser(req.ruri),
          toUser: uriUser(req.to.uri),
          fromUser: uriUser(req.from.uri),
          source,
          headers: req.msg.headers,
        })
      : { kind: 'plan', plan: { ...NO_ROUTE, autoAnswer: this.#deps.settings.autoAnswer } };
    if (tx.state !== 'proceeding') return undefined; // cancelled while it was routed
    if (decision.kind === 'plan') return decision.plan;
    if (decision.stranger) {
      this.#deps.core().respond(tx, decision.status, decision.reason ? { reason: decision.reason } : {});
      this.#stranger(source, "outside every trunk's sources");
      return undefined;
    }
    log.info(
      { source, route: decision.route || undefined, status: decision.status },
      'INVITE rejected by its route',
    );
    refuse(decision.status, decision.reason ? { reason: decision.reason } : {}, decision.route || undefined);
    return undefined;
  }

  async #forget(s: CallSession): Promise<void> {
    if (this.#calls.get(s.callId) !== s) return;
    this.#calls.delete(s.callId);
    if (this.#calls.size === 0) this.#wake();
    this.#settingUp.done(s.callId);
    if (s.dialog) this.#byDialog.delete(dialogKey(s.dialog.callId, s.dialog.localTag, s.dialog.remoteTag));
    if (s instanceof IncomingCall) this.#byInviteTx.delete(s.inviteTxKey);
    await this.#deps.ports.release(s.callId);
  }
}
