import { randomUUID } from 'node:crypto';
import type { Observable, Subscription } from 'rxjs';
import type { Logger } from '../../kernel/logger.ts';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallRecord } from '../records/call-records.ts';
import { SIGNATURE_HEADER, signWebhook } from './signature.ts';
import type { Spool } from './spool.ts';

/** What EVENTS_WEBHOOK_URL receives: one JSON object per event. */
export type StatusEvent =
  | {
      type: 'call.incoming';
      callId: string;
      from: string;
      to: string;
      source: string;
      route?: string | undefined;
      trunk?: string | undefined;
    }
  | { type: 'call.answered'; callId: string; direction: 'incoming' | 'outgoing' }
  | { type: 'call.transferred'; callId: string; target: string; status: string; code?: number | undefined }
  /** The call's CDR (the same as CDR_FILE's line). */
  | { type: 'call.ended'; callId: string; record: CallRecord };

export interface StatusCallbackOptions {
  readonly url: string;
  readonly secret: string | undefined;
  /** Per attempt. */
  readonly timeoutMs?: number;
  /** Backoff after a failed attempt: first, doubling up to max. */
  readonly retryFirstMs?: number;
  readonly retryMaxMs?: number;
  /** An event still undelivered after this long is dropped (logged). */
  readonly maxAgeMs?: number;
}

/** A status that will not get better by sending the same request again. */
const permanent = (status: number) =>
  (status >= 300 && status < 500 && status !== 408 && status !== 429) || status < 200;

/**
 * Call status callbacks (EVENTS_WEBHOOK_URL): the call's events (incoming, answered, transferred, ended with
 * its CDR) POSTed one at a time, oldest first, signed (WEBHOOK_SECRET) and with an X-Relay-Event-Id. Every
 * event is spooled to disk before the first attempt and removed once the receiver answered 2xx, so a
 * restart loses nothing (delivery is at least once). A failure (no answer within timeoutMs, 5xx, 408,
 * 429) is retried with exponential backoff; another 4xx, or an event older than maxAgeMs, is dropped with
 * a log line.
 */
export class StatusCallbacks {
  readonly #opts: Required<Omit<StatusCallbackOptions, 'secret'>> & { secret: string | undefined };
  readonly #subs: Subscription[] = [];
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #closed = false;
  #inFlight: AbortController | undefined;
  /** Delivered, and dropped (refused or too old), since start. */
  readonly counts = { delivered: 0, failedAttempts: 0, dropped: 0 };

  constructor(
    opts: StatusCallbackOptions,
    readonly spool: Spool,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#opts = {
      timeoutMs: 5000,
      retryFirstMs: 1000,
      retryMaxMs: 300_000,
      maxAgeMs: 24 * 3600_000,
      ...opts,
    };
    if (spool.size > 0) log.info({ waiting: spool.size }, 'status callbacks: delivering what the spool kept');
    this.#kick(0);
  }

  /** Events waiting in the spool. */
  get spooled(): number {
    return this.spool.size;
  }

  /** Follows the calls' events and their records. */
  follow(events$: Observable<CallEvent>, records$: Observable<CallRecord>): void {
    this.#subs.push(
      events$.subscribe((e) => {
        const s = statusOf(e);
        if (s) this.publish(s);
      }),
    );
    this.#subs.push(
      records$.subscribe((record) => this.publish({ type: 'call.ended', callId: record.callId, record })),
    );
  }

  publish(event: StatusEvent): void {
    if (this.#closed) return;
    const id = randomUUID();
    const body = JSON.stringify({ id, at: new Date(this.now()).toISOString(), ...event });
    const dropped = this.spool.add({ id, url: this.#opts.url, body, attempts: 0, firstAt: this.now() });
    if (dropped.length > 0) {
      this.counts.dropped += dropped.length;
      this.log.warn(
        { dropped: dropped.length, max: this.spool.max },
        'status callbacks: spool full, oldest dropped',
      );
    }
    if (!this.#busy && !this.#timer) this.#kick(0);
  }

  /** Stops sending; what is not delivered stays in the spool for the next start. */
  close(): void {
    this.#closed = true;
    for (const s of this.#subs) s.unsubscribe();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight?.abort();
  }

  #kick(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#pump();
    }, ms);
    this.#timer.unref?.();
  }

  async #pump(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (let name = this.spool.head; name && !this.#closed; name = this.spool.head) {
        const entry = this.spool.read(name);
        if (!entry) continue;
        if (this.now() - entry.firstAt > this.#opts.maxAgeMs) {
          this.spool.remove(name);
          this.counts.dropped++;
          this.log.warn(
            { id: entry.id, attempts: entry.attempts },
            'status callback dropped: undelivered for too long',
          );
          continue;
        }
        const result = await this.#send(entry.body, entry.id);
        if (this.#closed) return;
        if (result.ok || result.permanent) {
          this.spool.remove(name);
          if (result.ok) this.counts.delivered++;
          else {
            this.counts.dropped++;
            this.log.warn(
              { id: entry.id, why: result.why },
              'status callback refused by the receiver: dropped',
            );
          }
          continue;
        }
        entry.attempts++;
        this.counts.failedAttempts++;
        this.spool.update(name, entry);
        const wait = Math.min(this.#opts.retryMaxMs, this.#opts.retryFirstMs * 2 ** (entry.attempts - 1));
        this.log.warn(
          { id: entry.id, attempts: entry.attempts, retryInMs: wait, why: result.why },
          'status callback failed: will retry',
        );
        this.#kick(wait);
        return;
      }
    } finally {
      this.#busy = false;
    }
  }

  async #send(body: string, id: string): Promise<{ ok: boolean; permanent: boolean; why: string }> {
    const abort = new AbortController();
    this.#inFlight = abort;
    const timer = setTimeout(() => abort.abort(), this.#opts.timeoutMs);
    try {
      const res = await fetch(this.#opts.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-relay-event-id': id,
          ...(this.#opts.secret
            ? { [SIGNATURE_HEADER]: signWebhook(this.#opts.secret, body, this.now() / 1000) }
            : {}),
        },
        body,
        signal: abort.signal,
        redirect: 'manual', // never re-POST an event and its signature to a host we were not given
      });
      await res.body?.cancel();
      const ok = res.status >= 200 && res.status < 300;
      const why = `HTTP ${res.status}${res.status >= 300 && res.status < 400 ? ' (redirects are not followed)' : ''}`;
      return { ok, permanent: !ok && permanent(res.status), why };
    } catch (e) {
      const why = abort.signal.aborted ? `no answer within ${this.#opts.timeoutMs} ms` : (e as Error).message;
      return { ok: false, permanent: false, why };
    } finally {
      clearTimeout(timer);
      this.#inFlight = undefined;
    }
  }
}

function statusOf(e: CallEvent): StatusEvent | undefined {
  switch (e.type) {
    case 'call.incoming':
      return {
        type: e.type,
        callId: e.callId,
        from: e.from,
        to: e.to,
        source: e.source,
        route: e.route,
        trunk: e.trunk,
      };
    case 'call.answered':
      return { type: e.type, callId: e.callId, direction: e.direction };
    case 'call.transfer':
    case 'call.referred':
      if (e.status !== 'completed' && e.status !== 'failed') return undefined;
      return { type: 'call.transferred', callId: e.callId, target: e.target, status: e.status, code: e.code };
    default:
      return undefined;
  }
}
