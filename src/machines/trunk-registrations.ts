import type { InspectionEvent } from 'xstate';
import type { Logger } from '../kernel/logger.ts';
import { trunkPort } from '../routing/outbound.ts';
import type { TrunkEntry } from '../routing/routes-schema.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import { bracket } from '../sip/message/host.ts';
import type { Clock } from '../sip/transaction/clock.ts';
import { Registration } from './registration.ts';

interface Running {
  readonly key: string;
  readonly registration: Registration;
}

/**
 * The REGISTERs of the routes file's trunks (`register: true`), each its own registration kept refreshed
 * (the same machine SIP_REGISTER uses). `sync` is called at start-up and after each reload: new trunks
 * register, trunks that are gone or changed unregister (and changed ones register again), the others are
 * left alone.
 */
export class TrunkRegistrations {
  readonly #running = new Map<string, Running>();

  constructor(
    private readonly deps: {
      readonly core: SipCore;
      readonly clock: Clock;
      readonly log: Logger;
      readonly contactUser: string;
      readonly inspect?: ((event: InspectionEvent, callId: string) => void) | undefined;
    },
  ) {}

  /** Each registering trunk's state: registered, pending, failed or unregistered. */
  get statuses(): Record<string, string> {
    return Object.fromEntries([...this.#running].map(([name, r]) => [name, r.registration.status]));
  }

  get size(): number {
    return this.#running.size;
  }

  sync(trunks: readonly TrunkEntry[]): void {
    const wanted = new Map(trunks.filter((t) => t.register).map((t) => [t.name, t]));
    for (const [name, r] of this.#running) {
      const t = wanted.get(name);
      if (t && keyOf(t) === r.key) continue;
      this.#running.delete(name);
      void r.registration.stop();
    }
    for (const [name, t] of wanted) {
      if (this.#running.has(name)) continue;
      const registration = this.#make(t);
      this.#running.set(name, { key: keyOf(t), registration });
      registration.start();
    }
  }

  /** A connection to a trunk failed its keep-alive: that trunk registers again at once. */
  flowFailed(host: string, port: number): void {
    for (const [name, r] of this.#running) {
      const [h, p] = JSON.parse(r.key) as [string, number];
      if (h === host && p === port) {
        this.deps.log.info({ trunk: name }, 'trunk connection lost: registering again');
        r.registration.flowFailed();
      }
    }
  }

  async stop(): Promise<void> {
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map((r) => r.registration.stop()));
  }

  #make(t: TrunkEntry): Registration {
    const port = trunkPort(t);
    const user = t.from ?? t.username!;
    return new Registration({
      core: this.deps.core,
      clock: this.deps.clock,
      log: this.deps.log.child({ trunk: t.name }),
      contactUser: this.deps.contactUser,
      settings: {
        registrar: { host: t.host, port, transport: t.transport },
        aor: `sip:${user}@${bracket(t.host)}`,
        expires: t.registerExpires,
        ...(t.username ? { credentials: { username: t.username, password: t.password ?? '' } } : {}),
      },
      ...(this.deps.inspect ? { inspect: this.deps.inspect } : {}),
    });
  }
}

/** What a registration depends on: when any of it changes, the trunk registers anew. */
function keyOf(t: TrunkEntry): string {
  return JSON.stringify([
    t.host,
    trunkPort(t),
    t.transport,
    t.username,
    t.password,
    t.from,
    t.registerExpires,
  ]);
}
