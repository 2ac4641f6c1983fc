import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import { LogLimiter } from '../../kernel/log-limiter.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CallRecord } from './call-records.ts';

/** Lines held while the file cannot be written; beyond this the oldest are dropped (counted, logged). */
export const CDR_MAX_PENDING = 10_000;
/** Retry after a failed write: first, doubling up to the last. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;

/**
 * CDR_FILE: one JSON line per ended call, appended (opened with O_APPEND each time, so `logrotate` with
 * copytruncate or a move rotates it safely). Lines are written asynchronously, those that queued up meanwhile
 * in one write. A failed write (a full or read-only disk) never ends the process or a call: the lines wait
 * in memory (at most CDR_MAX_PENDING, the oldest dropped beyond it), the failure is counted and logged at
 * most once a minute, and the write is tried again with backoff (1 s doubling to 30 s), so the file resumes
 * by itself when space returns. A write cut short by a full disk is truncated back, so the file holds whole
 * lines only.
 */
export class CdrFile {
  readonly #sub: Subscription;
  readonly #pending: string[] = [];
  readonly #limiter = new LogLimiter(60_000);
  readonly #dropLimiter = new LogLimiter(60_000);
  #writing: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #retryMs = RETRY_FIRST_MS;
  #closed = false;
  /** Lines on disk, failed writes, lines dropped because too many waited. */
  written = 0;
  writeErrors = 0;
  dropped = 0;

  constructor(
    readonly path: string,
    records$: Observable<CallRecord>,
    private readonly log: Logger,
  ) {
    this.#sub = records$.subscribe((r) => this.#add(`${JSON.stringify(r)}\n`));
  }

  /** Lines waiting to be written. */
  get pending(): number {
    return this.#pending.length;
  }

  /** Stops taking records; resolves once what waits has been tried once more. */
  async close(): Promise<void> {
    this.#sub.unsubscribe();
    this.#closed = true;
    clearTimeout(this.#retry);
    await this.#writing;
    if (this.#pending.length > 0) await this.#flush();
    if (this.#pending.length > 0)
      this.log.error({ path: this.path, lost: this.#pending.length }, 'CDR file: lines not written at exit');
  }

  #add(line: string): void {
    this.#pending.push(line);
    if (this.#pending.length > CDR_MAX_PENDING) {
      this.#pending.shift();
      this.dropped++;
      this.#dropLimiter.hit((suppressed) =>
        this.log.error(
          { path: this.path, max: CDR_MAX_PENDING, suppressed },
          'CDR file: too many lines waiting, oldest dropped',
        ),
      );
    }
    if (!this.#writing && !this.#retry) this.#writing = this.#flush();
  }

  async #flush(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const n = this.#pending.length;
        const ok = await this.#append(this.#pending.join(''));
        if (!ok) {
          if (!this.#closed) this.#schedule();
          return;
        }
        this.#pending.splice(0, n);
        this.written += n;
        if (this.#retryMs !== RETRY_FIRST_MS) {
          this.#retryMs = RETRY_FIRST_MS;
          this.#limiter.reset();
          this.log.info({ path: this.path }, 'CDR file: writing again');
        }
      }
    } finally {
      this.#writing = undefined;
    }
  }

  #schedule(): void {
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      if (!this.#writing) this.#writing = this.#flush();
    }, this.#retryMs);
    this.#retry.unref?.();
    this.#retryMs = Math.min(RETRY_MAX_MS, this.#retryMs * 2);
  }

  /** Appends `text` whole, or not at all (a partial write is cut back); false on failure. */
  async #append(text: string): Promise<boolean> {
    let fh: Awaited<ReturnType<typeof open>> | undefined;
    let before: number | undefined;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      fh = await open(this.path, 'a');
      before = (await fh.stat()).size;
      await fh.writeFile(text);
      return true;
    } catch (e) {
      this.writeErrors++;
      if (fh && before !== undefined) await fh.truncate(before).catch(() => undefined);
      this.#limiter.hit((suppressed) =>
        this.log.error(
          { path: this.path, err: (e as Error).message, waiting: this.#pending.length, suppressed },
          'CDR file: write failed; the lines wait in memory and are written when the disk takes them',
        ),
      );
      return false;
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
}
