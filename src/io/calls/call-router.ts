import type { RoutesFileResult } from '../../config/routes-file.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CallDecision, CallFacts } from '../../routing/plan.ts';
import type { RouteTable } from '../../routing/router.ts';
import { FileWatch } from '../file-watch.ts';

/** Asks a webhook route's endpoint (call-webhook.ts); absent, a webhook route gets its fallback. */
export type WebhookAsk = (
  table: RouteTable,
  route: string,
  facts: CallFacts,
  trunk: string | undefined,
) => Promise<CallDecision>;

/**
 * Owns the routes in force: decides each incoming call on the table of the moment (a call keeps what it
 * got), swaps in a new table when ROUTES_FILE changes or on SIGUSR2, and keeps the old one when the new
 * file has problems (every problem logged). A `transfer` route is carried out by machines/transfer-route.ts.
 */
export class CallRouter {
  #table: RouteTable;
  #watch: FileWatch | undefined;
  #reloading: Promise<void> | undefined;
  #signal: (() => void) | undefined;
  /** Reloads done and refused (metrics, tests). */
  reloads = { ok: 0, failed: 0 };

  constructor(
    table: RouteTable,
    private readonly log: Logger,
    private readonly ask?: WebhookAsk,
  ) {
    this.#table = table;
  }

  get table(): RouteTable {
    return this.#table;
  }

  /** The decision for one incoming call (the call manager's `route`). */
  readonly route = async (facts: CallFacts): Promise<CallDecision> => {
    const table = this.#table;
    const d = table.decide(facts);
    if (d.kind !== 'webhook') return d;
    if (!this.ask) return { kind: 'reject', status: 500, route: d.route };
    return this.ask(table, d.route, facts, d.trunk);
  };

  /**
   * Watches the routes file (through symlinks: FileWatch) and SIGUSR2; `read` reads and checks it again (its
   * YAML parsed off the event loop), `apply` makes a table of it. One reload at a time: a change during a
   * reload is read again once it is over.
   */
  watch(
    path: string,
    read: () => Promise<RoutesFileResult> | RoutesFileResult,
    apply: (r: Extract<RoutesFileResult, { ok: true }>) => RouteTable,
  ): void {
    let running: Promise<void> | undefined;
    let again: string | undefined;
    const reload = async (why: string): Promise<void> => {
      const r = await read();
      if (!r.ok) {
        this.reloads.failed++;
        this.log.error(
          { path, problems: r.problems },
          `routes file not reloaded (${why}): ${r.problems.length} problem(s); the old routes stay:\n  - ${r.problems.join('\n  - ')}`,
        );
        return;
      }
      this.#table = apply(r);
      this.reloads.ok++;
      this.log.info(
        { path, routes: r.file.routes.length, trunks: r.file.trunks.length },
        `routes reloaded (${why}): new calls follow them, live calls keep theirs`,
      );
    };
    const request = (why: string) => {
      if (running) {
        again = why;
        return;
      }
      running = reload(why)
        .catch((e: unknown) => this.log.error({ path, err: String(e) }, 'routes file: reload failed'))
        .finally(() => {
          running = undefined;
          const next = again;
          again = undefined;
          if (next) request(next);
        });
      this.#reloading = running;
    };
    this.#watch = new FileWatch(path, () => request('file changed'), this.log);
    this.#signal = () => {
      this.#watch?.seen();
      request('SIGUSR2');
    };
    process.on('SIGUSR2', this.#signal);
  }

  /** The reload under way, if any (tests). */
  get reloading(): Promise<void> | undefined {
    return this.#reloading;
  }

  close(): void {
    this.#watch?.close();
    if (this.#signal) process.off('SIGUSR2', this.#signal);
  }
}
