import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Subscription } from 'rxjs';
import type { RoutesFileResult } from '../config/routes-file.ts';
import type { Logger } from '../kernel/logger.ts';
import type { CallManager } from '../machines/call-manager.ts';
import type { CallDecision, CallFacts } from '../routing/plan.ts';
import type { RouteTable } from '../routing/router.ts';

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
 * file has problems (every problem logged). Also carries out a `transfer` route once its call is answered.
 */
export class CallRouter {
  #table: RouteTable;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #signal: (() => void) | undefined;
  readonly #sub: Subscription;
  /** Reloads done and refused (metrics, tests). */
  reloads = { ok: 0, failed: 0 };

  constructor(
    table: RouteTable,
    calls: CallManager,
    private readonly log: Logger,
    private readonly ask?: WebhookAsk,
  ) {
    this.#table = table;
    this.#sub = calls.events$.subscribe((e) => {
      if (e.type !== 'call.answered') return;
      const target = calls.plan(e.callId)?.transfer;
      if (!target) return;
      // the answer is announced while the call enters `established`: transfer once it is there
      queueMicrotask(() => {
        const r = calls.transfer(e.callId, target);
        if (!r.ok)
          log.warn(
            { callId: e.callId, target, why: r.message },
            'transfer route: the transfer could not start',
          );
      });
    });
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
   * Watches the routes file (its directory: editors replace files by renaming) and SIGUSR2; `read` reads
   * and checks it again, `apply` makes a table of it.
   */
  watch(
    path: string,
    read: () => RoutesFileResult,
    apply: (r: Extract<RoutesFileResult, { ok: true }>) => RouteTable,
  ): void {
    const reload = (why: string) => {
      const r = read();
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
    const name = basename(path);
    try {
      this.#watcher = watch(dirname(path), (_event, file) => {
        if (file !== null && file !== name) return;
        // an editor's save is several events: reload once they are over
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => reload('file changed'), 200);
      });
      this.#watcher.on('error', (e) =>
        this.log.warn({ path, err: e.message }, 'routes file: watching failed'),
      );
    } catch (e) {
      this.log.warn({ path, err: (e as Error).message }, 'routes file: cannot watch it; reload with SIGUSR2');
    }
    this.#signal = () => reload('SIGUSR2');
    process.on('SIGUSR2', this.#signal);
  }

  close(): void {
    this.#sub.unsubscribe();
    this.#watcher?.close();
    clearTimeout(this.#debounce);
    if (this.#signal) process.off('SIGUSR2', this.#signal);
  }
}
