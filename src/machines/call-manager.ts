import { Subject } from 'rxjs';
import type { CallPlan } from '../routing/plan.ts';
import type { TransactionUser } from '../sip/core/tu.ts';
import { replacingReferTo } from '../sip/dialog/refer.ts';
import type { ParsedRequest, ParsedResponse } from '../sip/message/parse.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import { AttendedTransfers } from './attended-transfers.ts';
import type { CallEvent } from './call-events.ts';
import type { CallManagerDeps, DialOptions, DialResult, RefusedCall, TransferResult } from './call-ports.ts';
import { CallRegistry } from './call-registry.ts';
import type { CallSession, SessionEnv } from './call-session.ts';
import { IncomingCalls } from './incoming-calls.ts';
import { OutboundCalls } from './outbound-calls.ts';
import { OutgoingCall } from './outgoing-call.ts';
import { PlacedCalls } from './placed-calls.ts';

export type {
  CallManagerDeps,
  DialOptions,
  DialResult,
  PortAllocator,
  RefusedCall,
  TransferResult,
} from './call-ports.ts';

/**
 * The transaction user for calls: routes each request to its dialog (Call-ID + tags), spawns one call actor
 * per new INVITE, forgets it when it ends, and offers the API clients drive (dial, answer, reject, hangup).
 */
export class CallManager implements TransactionUser {
  readonly events$ = new Subject<CallEvent>();
  readonly #deps: CallManagerDeps;
  /** Every call out passes its policy (deny list, trunks and their limits, transfer targets). */
  readonly #out: OutboundCalls;
  readonly #calls = new CallRegistry();
  readonly #env: SessionEnv;
  readonly #incoming: IncomingCalls;
  readonly #placed: PlacedCalls;
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
      liveCallsOut: (trunk) => this.#calls.outThrough(trunk),
    });
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
        if (e.type === 'call.answered' || e.type === 'call.ended') this.#incoming.settingUp.done(e.callId);
        this.events$.next(e);
      },
      registerDialog: (s) => this.#calls.addDialog(s),
      ended: (s) => void this.#forget(s),
      referredCalls: {
        resolve: (target) => this.#out.resolve(target),
        call: (target, referredBy, progress) => this.#placed.callReferred(target, referredBy, progress),
      },
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
    };
    this.#incoming = new IncomingCalls(deps, this.#calls, this.#env);
    this.#placed = new PlacedCalls(deps, this.#calls, this.#env, this.#out, this.events$);
  }

  /** INVITEs refused before they became calls (no route, a trunk's sources, limits, no common codec). */
  get refused$(): Subject<RefusedCall> {
    return this.#incoming.refused$;
  }

  /** A call we place, before any of its events (records and status callbacks start it here). */
  get placed$(): Subject<{ readonly callId: string }> {
    return this.#placed.placed$;
  }

  /** INVITEs refused because their source is none of ours (SIP_ALLOWED_SOURCES, trunks' sources). */
  get strangersRefused(): number {
    return this.#incoming.strangersRefused;
  }

  /**
   * Places a call to `number`: through its trunk (named, or by prefix; the routes file's), else through the
   * upstream server. The deny list and the trunk's limits apply to every call out, whoever asks.
   */
  dial(number: string, opts: DialOptions = {}): Promise<DialResult> {
    return this.#placed.dial(number, opts);
  }

  /** Calls a transfer target (a warm transfer's consult call). */
  dialUri(target: string): Promise<DialResult> {
    return this.#placed.dialUri(target);
  }

  /** A call event from outside the calls themselves (a warm transfer's progress): to every listener. */
  announce(e: CallEvent): void {
    this.events$.next(e);
  }

  /** Live calls (tests and metrics). */
  get size(): number {
    return this.#calls.size;
  }

  get dialogs(): number {
    return this.#calls.dialogs;
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
        this.#incoming.take(req, tx).catch((e: unknown) => {
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
    const session = this.#calls.inDialog(req.callId, req.toTag, req.fromTag ?? '');
    if (!session) {
      core.respond(tx, 481);
      return;
    }
    session.onInDialogRequest(req, tx);
  }

  onCancel(invite: ServerTransaction): void {
    const call = this.#calls.byInvite(invite.key);
    if (call) call.onCancel();
    else this.#deps.core().respond(invite, 487); // still binding ports, or never became a call
  }

  onAck(ack: ParsedRequest): void {
    const session = this.#calls.inDialog(ack.callId, ack.toTag ?? '', ack.fromTag ?? '');
    session?.onAck(ack);
  }

  onStrayResponse(res: ParsedResponse): void {
    // a 2xx retransmitted after the INVITE transaction ended: ACK it again (RFC 3261 13.2.2.4)
    if (res.msg.status < 200 || res.msg.status >= 300 || res.cseq.method !== 'INVITE') return;
    const session = this.#calls.inDialog(res.callId, res.fromTag ?? '', res.toTag ?? '');
    if (session instanceof OutgoingCall) session.onResponse(res);
  }

  // --- client API --------------------------------------------------------------------------------------

  answer(callId: string): boolean {
    return this.#sendIf(callId, 'ringing.alerting', { type: 'client.answer' });
  }

  /** Who calls whom on a live call (From, and To or the Request-URI), and which way. */
  parties(callId: string): { from: string; to: string; direction: 'incoming' | 'outgoing' } | undefined {
    const c = this.#calls.get(callId);
    return c && { ...c.parties, direction: c.direction };
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
    this.#calls.accepting = false;
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

  async #forget(s: CallSession): Promise<void> {
    if (!this.#calls.remove(s)) return;
    if (this.#calls.size === 0) this.#wake();
    this.#incoming.settingUp.done(s.callId);
    await this.#deps.ports.release(s.callId);
  }
}
