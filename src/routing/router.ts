import { addressSet } from './address-set.ts';
import type { AgentPlan, CallDecision, CallFacts, CallPlan, Decision } from './plan.ts';
import type { Action, RouteEntry, RoutesFile, TrunkEntry } from './routes-schema.ts';

/** The AI_* settings an agent route starts from. */
export interface AgentDefaults extends Omit<AgentPlan, 'model'> {
  readonly chatModel: string;
  readonly realtimeModel: string;
}

/** What every route falls back on: the environment's agent settings and AUTO_ANSWER. */
export interface RouteDefaults {
  readonly agent: AgentDefaults;
  readonly autoAnswer: boolean;
}

/** A webhook route, as the resolver calls it. */
export interface WebhookSpec {
  readonly url: string;
  readonly timeoutMs: number;
  readonly headers: readonly string[];
  readonly fallback: Action;
}

interface CompiledRoute {
  readonly name: string;
  readonly to: RegExp | undefined;
  readonly from: RegExp | undefined;
  readonly trunks: ReadonlySet<string> | undefined;
  readonly source: ((address: string) => boolean) | undefined;
  readonly entry: RouteEntry;
}

interface CompiledTrunk {
  readonly entry: TrunkEntry;
  readonly sources: (address: string) => boolean;
}

/** `*` stands for any run of characters; everything else is itself. One RegExp for a list. */
function patternRegExp(list: readonly string[] | undefined): RegExp | undefined {
  if (!list) return undefined;
  const alternatives = list.map((p) =>
    p
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*'),
  );
  return new RegExp(`^(?:${alternatives.join('|')})$`, 'i');
}

const isIpLiteral = (host: string) => /^[0-9.]+$/.test(host) || host.includes(':');

/**
 * The routes of a routes file (or of the environment), compiled once per load: which trunk an INVITE came
 * in on (by its source address), and the first route whose conditions all hold. Pure: a reload makes a new
 * table, and a call keeps the decision it got.
 */
export class RouteTable {
  readonly #trunks: CompiledTrunk[];
  readonly #routes: CompiledRoute[];
  readonly #webhooks = new Map<string, WebhookSpec>();
  readonly #deny: readonly string[];

  constructor(
    readonly file: RoutesFile,
    readonly defaults: RouteDefaults,
    readonly options: {
      /** CALL_WEBHOOK_URL: a webhook route without its own url asks this one. */
      readonly callWebhookUrl?: string | undefined;
      /**
       * Without a routes file: what CALL_CENTER and MEDIA_STREAM_URL put on every call a `clients` route
       * takes (both at once, as before routes existed).
       */
      readonly legacy?: { readonly agent: boolean; readonly stream: string | undefined };
    } = {},
  ) {
    this.#trunks = file.trunks.map((t) => ({
      entry: t,
      sources: addressSet(t.sources ?? (isIpLiteral(t.host) ? [t.host] : [])),
    }));
    this.#routes = file.routes.map((r, i) => ({
      name: r.name ?? `#${i + 1}`,
      to: patternRegExp(r.to),
      from: patternRegExp(r.from),
      trunks: r.trunk === undefined ? undefined : new Set(Array.isArray(r.trunk) ? r.trunk : [r.trunk]),
      source: r.source ? addressSet(r.source) : undefined,
      entry: r,
    }));
    for (const r of this.#routes) {
      const w = r.entry.webhook;
      const url = w?.url ?? options.callWebhookUrl;
      if (w && url) this.#webhooks.set(r.name, { ...w, url });
    }
    this.#deny = file.denyPrefixes;
  }

  get trunks(): readonly TrunkEntry[] {
    return this.file.trunks;
  }

  /** The webhook a `webhook` decision names. */
  webhook(route: string): WebhookSpec | undefined {
    return this.#webhooks.get(route);
  }

  /** The trunk whose sources hold this address, if any. */
  trunkFrom(address: string): TrunkEntry | undefined {
    return this.#trunks.find((t) => t.sources(address))?.entry;
  }

  /** A number no call may dial (denyPrefixes): the prefix it starts with. */
  denied(number: string): string | undefined {
    return this.#deny.find((p) => number.startsWith(p));
  }

  /**
   * The incoming call's fate. With trunks listed, an INVITE from outside all their sources is refused
   * (403): a trunk's number must not be reachable by anyone who finds the relay's address.
   */
  decide(facts: CallFacts): Decision {
    const trunk = this.trunkFrom(facts.source);
    if (this.#trunks.length > 0 && !trunk)
      return {
        kind: 'reject',
        status: 403,
        reason: 'Forbidden (source is no trunk of ours)',
        route: '',
        stranger: true,
      };
    const called = [facts.requestUser, facts.toUser].filter((u): u is string => u !== undefined);
    const route = this.#routes.find(
      (r) =>
        (!r.to || called.some((u) => r.to!.test(u))) &&
        (!r.from || (facts.fromUser !== undefined && r.from.test(facts.fromUser))) &&
        (!r.trunks || (trunk !== undefined && r.trunks.has(trunk.name))) &&
        (!r.source || r.source(facts.source)),
    );
    if (!route) return { kind: 'reject', status: 404, reason: 'Not Found (no route)', route: '' };
    if (route.entry.webhook) return { kind: 'webhook', route: route.name, trunk: trunk?.name };
    const decision = actionDecision(route.entry as Action, route.name, trunk?.name, this.defaults);
    const legacy = this.outgoingPlan();
    if (!legacy || decision.kind !== 'plan') return decision;
    return { kind: 'plan', plan: { ...decision.plan, agent: legacy.agent, stream: legacy.stream } };
  }

  /**
   * What calls we place get when whoever placed them names nothing: without a routes file the
   * environment's agent (CALL_CENTER) and media stream (MEDIA_STREAM_URL), as on calls that come in.
   */
  outgoingPlan(): CallPlan | undefined {
    const legacy = this.options.legacy;
    if (!legacy) return undefined;
    return {
      route: 'default',
      trunk: undefined,
      agent: legacy.agent ? agentPlan(this.defaults.agent, {}) : undefined,
      stream: legacy.stream ? { url: legacy.stream, parameters: {} } : undefined,
      autoAnswer: false,
      transfer: undefined,
    };
  }

  /**
   * The table without a routes file: one route, `default`, for every call from anywhere (SIP_ALLOWED_SOURCES
   * still applies): CALL_WEBHOOK_URL asks the app; otherwise the clients decide (AUTO_ANSWER), with the
   * agent on every call when CALL_CENTER=true and a media stream when MEDIA_STREAM_URL is set.
   */
  static fromEnvironment(
    defaults: RouteDefaults,
    env: { callCenter: boolean; streamUrl: string | undefined; callWebhookUrl: string | undefined },
  ): RouteTable {
    const route = env.callWebhookUrl
      ? { name: 'default', webhook: { timeoutMs: 3000, headers: [], fallback: { reject: { status: 480 } } } }
      : { name: 'default', clients: {} };
    return new RouteTable({ trunks: [], routes: [route], denyPrefixes: [] }, defaults, {
      callWebhookUrl: env.callWebhookUrl,
      legacy: { agent: env.callCenter, stream: env.streamUrl },
    });
  }
}

/** One action (a route's, a webhook reply's, a fallback) as what the call gets. */
export function actionDecision(
  action: Action,
  route: string,
  trunk: string | undefined,
  defaults: RouteDefaults,
): CallDecision {
  if (action.reject)
    return {
      kind: 'reject',
      status: action.reject.status,
      route,
      ...(action.reject.reason ? { reason: action.reject.reason } : {}),
    };
  const base: CallPlan = {
    route,
    trunk,
    agent: undefined,
    stream: undefined,
    autoAnswer: true,
    transfer: undefined,
  };
  if (action.agent) return plan({ ...base, agent: agentPlan(defaults.agent, action.agent) });
  if (action.stream)
    return plan({ ...base, stream: { url: action.stream.url, parameters: action.stream.parameters ?? {} } });
  if (action.transfer) return plan({ ...base, transfer: action.transfer });
  return plan({ ...base, autoAnswer: action.clients?.answer ?? defaults.autoAnswer });
}

const plan = (p: CallPlan): CallDecision => ({ kind: 'plan', plan: p });

/** The environment's agent with what a route or webhook changed. */
export function agentPlan(d: AgentDefaults, a: NonNullable<Action['agent']>): AgentPlan {
  const provider = a.provider ?? d.provider;
  return {
    provider,
    model: a.model ?? (provider === 'openai-realtime' ? d.realtimeModel : d.chatModel),
    prompt: a.prompt ?? d.prompt,
    voice: a.voice ?? d.voice,
    language: a.language ?? d.language,
    greeting: a.greeting ?? d.greeting,
    tools: a.tools ?? d.tools,
    transferTarget: a.transferTarget ?? d.transferTarget,
  };
}
