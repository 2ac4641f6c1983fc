import { Subject } from 'rxjs';
import { LogLimiter } from '../kernel/log-limiter.ts';
import type { Logger } from '../kernel/logger.ts';
import { type CallDecision, type CallPlan, NO_ROUTE } from '../routing/plan.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import { header } from '../sip/message/headers.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import { uriUser } from '../sip/message/uri.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import { viaSource } from '../sip/transport/via-route.ts';
import { SettingUp, screenInvite } from './admission.ts';
import type { CallManagerDeps, RefusedCall } from './call-ports.ts';
import type { CallRegistry } from './call-registry.ts';
import type { SessionEnv } from './call-session.ts';
import { type MediaPorts, negotiationOptions } from './call-settings.ts';
import { IncomingCall } from './incoming-call.ts';
import { DEFAULT_SESSION_TIMERS } from './session-refresh.ts';

export type IncomingDeps = Pick<
  CallManagerDeps,
  | 'core'
  | 'clock'
  | 'log'
  | 'settings'
  | 'ports'
  | 'maxCalls'
  | 'maxSettingUpPerSource'
  | 'allowSource'
  | 'route'
>;

/**
 * New INVITEs: admitted (admission.ts), routed (the routes file or webhook decides what the call gets),
 * given an RTP port pair and made a call, or refused with a final response that records and status
 * callbacks hear of.
 */
export class IncomingCalls {
  /** INVITEs refused before they became calls (no route, a trunk's sources, limits, no common codec). */
  readonly refused$ = new Subject<RefusedCall>();
  /** Incoming calls not established yet, per source IP. */
  readonly settingUp = new SettingUp();
  readonly #deps: IncomingDeps;
  readonly #registry: CallRegistry;
  readonly #env: SessionEnv;

  constructor(deps: IncomingDeps, registry: CallRegistry, env: SessionEnv) {
    this.#deps = deps;
    this.#registry = registry;
    this.#env = env;
    this.#strangerLog = new LogLimiter(60_000, () => deps.clock.now());
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

  /** A new INVITE (no To tag): screened, routed, given ports and made a call, or answered with why not. */
  async take(req: ParsedRequest, tx: ServerTransaction): Promise<void> {
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
      accepting: this.#registry.accepting,
      live: this.#registry.live,
      maxCalls: this.#deps.maxCalls,
      negotiation: negotiationOptions(this.#deps.settings, req.source?.transport),
      sessionTimers: this.#deps.settings.sessionTimers ?? DEFAULT_SESSION_TIMERS,
      settingUpFromSource: this.settingUp.count(source),
      maxSettingUpPerSource: this.#deps.maxSettingUpPerSource,
      callIdInUse: this.#registry.taken(req.callId),
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
    this.#registry.pending++;
    this.#registry.binding.add(req.callId);
    this.settingUp.add(req.callId, source);
    let plan: CallPlan | undefined;
    let ports: MediaPorts | undefined;
    try {
      plan = await this.#plan(req, source, tx, log, refuse);
      if (plan) ports = await this.#deps.ports.allocate(req.callId);
    } finally {
      this.#registry.pending--;
      this.#registry.binding.delete(req.callId);
      if (!ports) this.settingUp.done(req.callId);
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
    this.#registry.add(call);
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
}
