import { bracket } from '../sip/message/host.ts';
import type { RouteTable } from './router.ts';
import type { TrunkEntry } from './routes-schema.ts';

/** Which way a call out leaves, or why it may not. */
export type OutboundChoice =
  | { readonly ok: true; readonly trunk: TrunkEntry | undefined }
  | { readonly ok: false; readonly status: 403 | 404 | 429 | 503; readonly reason: string };

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Calls out against toll fraud (pure; the clock is handed in): the deny list first (denyPrefixes, whatever
 * the trunk), then the trunk (named, else the one with the longest matching `prefixes`, else none: the
 * environment's SIP_SERVER_IP), then that trunk's limits: `maxCalls` at once and `callsPerSecond` new ones
 * (a token bucket holding one second's worth, at least one call). Buckets are kept by trunk name, so a
 * reload of the routes file does not refill them.
 */
export class OutboundPolicy {
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number) {}

  choose(
    table: RouteTable,
    number: string,
    trunkName: string | undefined,
    liveCalls: (trunk: string) => number,
  ): OutboundChoice {
    const denied = table.denied(number);
    if (denied) return { ok: false, status: 403, reason: `numbers starting ${denied} may not be dialled` };
    let trunk: TrunkEntry | undefined;
    if (trunkName !== undefined) {
      trunk = table.trunks.find((t) => t.name === trunkName);
      if (!trunk) return { ok: false, status: 404, reason: `no trunk named ${trunkName}` };
    } else {
      let best = -1;
      for (const t of table.trunks)
        for (const p of t.prefixes)
          if (number.startsWith(p) && p.length > best) {
            best = p.length;
            trunk = t;
          }
    }
    if (!trunk) return { ok: true, trunk: undefined };
    return this.#limits(trunk, liveCalls);
  }

  /**
   * A call out to a URI (a transfer target: a REFER we received, a warm transfer's consult call, a REFER we
   * send): the deny list judges its user part, and a target whose host is a trunk's host is a call through
   * that trunk, under its limits (`limits: false` for a REFER we send, since the peer places that call).
   */
  chooseTarget(
    table: RouteTable,
    user: string | undefined,
    host: string,
    liveCalls: (trunk: string) => number,
    limits = true,
  ): OutboundChoice {
    const denied = user === undefined ? undefined : table.denied(user);
    if (denied) return { ok: false, status: 403, reason: `numbers starting ${denied} may not be dialled` };
    const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    const trunk = table.trunks.find((t) => t.host.toLowerCase() === bare);
    if (!trunk || !limits) return { ok: true, trunk };
    return this.#limits(trunk, liveCalls);
  }

  #limits(trunk: TrunkEntry, liveCalls: (trunk: string) => number): OutboundChoice {
    if (trunk.maxCalls !== undefined && liveCalls(trunk.name) >= trunk.maxCalls)
      return {
        ok: false,
        status: 503,
        reason: `trunk ${trunk.name} has ${trunk.maxCalls} calls out already`,
      };
    if (trunk.callsPerSecond !== undefined && !this.#take(trunk.name, trunk.callsPerSecond))
      return {
        ok: false,
        status: 429,
        reason: `trunk ${trunk.name} allows ${trunk.callsPerSecond} new calls a second`,
      };
    return { ok: true, trunk };
  }

  #take(name: string, perSecond: number): boolean {
    const now = this.now();
    const size = Math.max(1, perSecond);
    const b = this.#buckets.get(name) ?? { tokens: size, at: now };
    b.tokens = Math.min(size, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.#buckets.set(name, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** A trunk's port: its own, else SIP's default for its transport (RFC 3261 19.1.2: 5061 for TLS). */
export const trunkPort = (t: TrunkEntry): number => t.port ?? (t.transport === 'tls' ? 5061 : 5060);

/** A From value (`"Name" <sip:user@host>`) with another user. */
export function fromWithUser(from: string, user: string): string {
  return from.replace(/(sips?:)[^@>;]*@/, `$1${user}@`);
}

/** How a call to `number` through `trunk` is addressed: Request-URI, next hop, From and credentials. */
export function trunkDial(
  trunk: TrunkEntry,
  number: string,
  fromUser: string | undefined,
  defaultUser: string,
): {
  uri: string;
  dest: { host: string; port: number; transport: 'udp' | 'tcp' | 'tls' };
  from: string;
  credentials?: { username: string; password: string };
} {
  const port = trunkPort(trunk);
  const host = bracket(trunk.host);
  const user = fromUser ?? trunk.from ?? trunk.username ?? defaultUser;
  return {
    uri: `sip:${number}@${host}:${port}${trunk.transport === 'udp' ? '' : `;transport=${trunk.transport}`}`,
    dest: { host: trunk.host, port, transport: trunk.transport },
    from: `<sip:${user}@${host}>`,
    ...(trunk.username ? { credentials: { username: trunk.username, password: trunk.password ?? '' } } : {}),
  };
}
