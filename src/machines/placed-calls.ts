import { type Observable, Subject } from 'rxjs';
import type { CallPlan } from '../routing/plan.ts';
import type { TransferTarget } from '../sip/dialog/transfer-target.ts';
import { newCallId } from '../sip/message/ids.ts';
import type { CallEvent } from './call-events.ts';
import type { CallManagerDeps, DialOptions, DialResult } from './call-ports.ts';
import type { CallRegistry } from './call-registry.ts';
import type { SessionEnv } from './call-session.ts';
import type { OutboundCalls } from './outbound-calls.ts';
import { type DialTarget, OutgoingCall } from './outgoing-call.ts';

export type PlacingDeps = Pick<CallManagerDeps, 'core' | 'log' | 'ports' | 'maxCalls' | 'outgoingPlan'>;

/**
 * The calls we place: to a number (clients, REST, routes), to a transfer target (a warm transfer's consult
 * call) and for a REFER we took. Each passes the outbound policy (OutboundCalls: deny list, trunk, its
 * limits, counted while it lives) and MAX_CALLS before its ports are bound.
 */
export class PlacedCalls {
  /** A call we place, before any of its events (records and status callbacks start it here). */
  readonly placed$ = new Subject<{ readonly callId: string }>();
  readonly #deps: PlacingDeps;
  readonly #registry: CallRegistry;
  readonly #env: SessionEnv;
  readonly #out: OutboundCalls;
  readonly #events$: Observable<CallEvent>;

  constructor(
    deps: PlacingDeps,
    registry: CallRegistry,
    env: SessionEnv,
    out: OutboundCalls,
    events$: Observable<CallEvent>,
  ) {
    this.#deps = deps;
    this.#registry = registry;
    this.#env = env;
    this.#out = out;
    this.#events$ = events$;
  }

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
    if (!this.#registry.accepting) return { ok: false, status: 503, reason: 'shutting down' };
    if (this.#registry.live >= this.#deps.maxCalls)
      return { ok: false, status: 503, reason: 'too many calls' };
    this.#registry.pending++;
    const callId = newCallId(this.#deps.core().local.host);
    const ports = await this.#deps.ports.allocate(callId).finally(() => this.#registry.pending--);
    if (!ports) return { ok: false, status: 503, reason: 'no free RTP ports' };
    const call = new OutgoingCall(callId, target, ports, this.#env);
    call.plan = plan;
    this.#registry.add(call);
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
  async callReferred(
    target: TransferTarget,
    referredBy: string | undefined,
    progress: (status: number, reason: string) => void,
  ): Promise<string | undefined> {
    const headers: Array<[string, string]> = referredBy ? [['Referred-By', referredBy]] : [];
    let placed: string | undefined;
    const sub = this.#events$.subscribe((e) => {
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
}
