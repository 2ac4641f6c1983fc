import type { Logger } from '../kernel/logger.ts';
import { err, type Result } from '../kernel/result.ts';
import { fromWithUser, type OutboundChoice, trunkDial } from '../routing/outbound.ts';
import { type CallPlan, NO_ROUTE } from '../routing/plan.ts';
import {
  referredRequest,
  resolveTransferTarget,
  type TargetPattern,
  type TransferTarget,
  targetHop,
} from '../sip/dialog/transfer-target.ts';
import { unescapeUri, uriUser } from '../sip/message/uri.ts';
import type { DialTarget } from './outgoing-call.ts';

export interface OutboundDeps {
  readonly log: Logger;
  /** Calls out go to the upstream server (SIP_SERVER_IP) unless a trunk takes them. */
  readonly upstream: Omit<DialTarget, 'uri'> & { readonly uriHost: string };
  /** TRANSFER_ALLOWED_TARGETS. */
  readonly transferTargets?: readonly TargetPattern[] | undefined;
  /** What calls we place get when whoever placed them names nothing. */
  readonly outgoingPlan?: CallPlan | undefined;
  /** Our Contact's user (a trunk's From when it names none). */
  readonly contactUser: string;
  /** The routes file's policy for a number: deny list, trunk by name or prefix, its limits. */
  readonly outbound?:
    | ((number: string, trunk: string | undefined, liveCalls: (trunk: string) => number) => OutboundChoice)
    | undefined;
  /** The same for a URI: deny list on its user, a trunk's host is that trunk (`limits`: apply its limits). */
  readonly outboundTarget?:
    | ((
        user: string | undefined,
        host: string,
        liveCalls: (trunk: string) => number,
        limits: boolean,
      ) => OutboundChoice)
    | undefined;
  /** Live calls out through `trunk` (set up, ringing or answered). */
  readonly liveCallsOut: (trunk: string) => number;
}

/** A call out the policy let through: how it is addressed, what it gets, which trunk's limits count it. */
export interface OutboundCall {
  readonly target: DialTarget;
  readonly label: string;
  readonly plan: CallPlan | undefined;
  readonly trunk: string | undefined;
}

export type OutboundVerdict =
  | { readonly ok: true; readonly call: OutboundCall }
  | { readonly ok: false; readonly status: number; readonly reason: string };

/**
 * The one outbound policy every call out passes, whatever starts it: a number (clients, REST, a route's
 * plan) or a URI (a REFER received, a warm transfer's consult call), and the targets of REFERs we send. The
 * deny list judges the number (a URI's user), a trunk's limits count every call through it while it lives
 * (a URI at a trunk's host is such a call), and URI targets must match TRANSFER_ALLOWED_TARGETS. The call
 * manager places what this lets through.
 */
export class OutboundCalls {
  /** Calls out through a trunk being placed (their ports being bound): they count against its maxCalls. */
  readonly #placing = new Map<string, number>();

  constructor(private readonly deps: OutboundDeps) {}

  /** Calls out through `trunk` now: being placed, and live. */
  callsOut(trunk: string): number {
    return (this.#placing.get(trunk) ?? 0) + this.deps.liveCallsOut(trunk);
  }

  /**
   * A call to a number: through its trunk (named, or by prefix), else through the upstream server as
   * sip:{number}@{SIP_SERVER_IP}:{SIP_TRANSFER_PORT}.
   */
  number(
    number: string,
    opts: { trunk?: string | undefined; from?: string | undefined; plan?: CallPlan | undefined },
  ): OutboundVerdict {
    const choice = this.deps.outbound?.(number, opts.trunk, (t) => this.callsOut(t)) ?? {
      ok: true,
      trunk: undefined,
    };
    if (!choice.ok) {
      this.deps.log.warn(
        { to: number, trunk: opts.trunk, why: choice.reason },
        `call out refused: ${choice.reason}`,
      );
      return choice;
    }
    const u = this.deps.upstream;
    const target: DialTarget = choice.trunk
      ? trunkDial(choice.trunk, number, opts.from, this.deps.contactUser)
      : {
          ...u,
          uri: `sip:${number}@${u.uriHost}`,
          ...(opts.from ? { from: fromWithUser(u.from, opts.from) } : {}),
        };
    const base = opts.plan ?? this.deps.outgoingPlan;
    const plan =
      choice.trunk || base
        ? { ...(base ?? { ...NO_ROUTE, autoAnswer: false }), trunk: choice.trunk?.name }
        : undefined;
    return { ok: true, call: { target, label: number, plan, trunk: choice.trunk?.name } };
  }

  /**
   * A transfer target, resolved and judged: TRANSFER_ALLOWED_TARGETS, then the deny list on its number (so a
   * REFER to sip:+1900...@trunk is refused like a CALL: to +1900...). A trunk's limits are applied when a
   * call is placed (`uri`); a REFER we send is placed by the peer.
   */
  resolve(
    target: string,
  ): Result<TransferTarget, { code: 'bad_target' | 'forbidden_target'; message: string }> {
    const r = resolveTransferTarget(target, this.deps.upstream.uriHost, this.deps.transferTargets ?? []);
    if (!r.ok) return r;
    const choice = this.#targetChoice(r.value, false);
    if (!choice.ok) return err({ code: 'forbidden_target', message: choice.reason });
    return r;
  }

  /**
   * A call to a resolved transfer target (a REFER received, a consult call): a target at a trunk's host is a
   * call through that trunk, under its limits and counted while it lives.
   */
  uri(target: TransferTarget, headers: Array<[string, string]>): OutboundVerdict {
    const choice = this.#targetChoice(target, true);
    if (!choice.ok) {
      this.deps.log.warn({ to: target.text, why: choice.reason }, `call out refused: ${choice.reason}`);
      return choice;
    }
    const base = this.deps.outgoingPlan;
    const plan = choice.trunk
      ? { ...(base ?? { ...NO_ROUTE, autoAnswer: false }), trunk: choice.trunk.name }
      : base;
    return {
      ok: true,
      call: {
        target: this.#targetDial(target, headers),
        label: target.text,
        plan,
        trunk: choice.trunk?.name,
      },
    };
  }

  /** Runs `place` with the call counted against its trunk's maxCalls while its ports are bound. */
  async counted<T>(call: OutboundCall, place: () => Promise<T>): Promise<T> {
    const trunk = call.trunk;
    if (trunk) this.#placing.set(trunk, (this.#placing.get(trunk) ?? 0) + 1);
    try {
      return await place();
    } finally {
      if (trunk) this.#placing.set(trunk, (this.#placing.get(trunk) ?? 1) - 1);
    }
  }

  #targetChoice(t: TransferTarget, limits: boolean): OutboundChoice {
    const user = uriUser(t.uri);
    return (
      this.deps.outboundTarget?.(
        user === undefined ? undefined : unescapeUri(user),
        t.uri.host,
        (name) => this.callsOut(name),
        limits,
      ) ?? { ok: true, trunk: undefined }
    );
  }

  /** The DialTarget of a transfer target: its host when an IP address, else through the upstream server. */
  #targetDial(target: TransferTarget, headers: Array<[string, string]>): DialTarget {
    const u = this.deps.upstream;
    const dest = targetHop(target.uri, u.dest);
    const { uri, replaces } = referredRequest(target);
    // RFC 3891 Replaces in a Refer-To is the referrer's word on a dialog at the target; passed on, it would
    // let whoever sends a REFER take over any call the target has (with the trust the relay's address or
    // credentials carry there). It is dropped: the referred call is a plain call to the target.
    if (replaces !== undefined)
      this.deps.log.warn(
        { to: uri },
        'transfer target: its Replaces is not passed on (a plain call instead)',
      );
    const viaUpstream = dest.host === u.dest.host && dest.port === u.dest.port;
    return {
      uri,
      dest,
      from: u.from,
      headers,
      ...(viaUpstream && u.credentials ? { credentials: u.credentials } : {}),
    };
  }
}
