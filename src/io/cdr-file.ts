import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { Logger } from '../kernel/logger.ts';
import type { CallRecord } from './call-records.ts';

/**
 * CDR_FILE: one JSON line per ended call, appended (opened with O_APPEND, so `logrotate` with copytruncate
 * rotates it safely). A failed write is logged and the relay goes on; the record still reaches the status
 * webhook.
 */
export class CdrFile {
  readonly #out: WriteStream;
  readonly #sub: Subscription;
  written = 0;

  constructor(
    readonly path: string,
    records$: Observable<CallRecord>,
    log: Logger,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.#out = createWriteStream(path, { flags: 'a' });
    this.#out.on('error', (e) => log.error({ path, err: e.message }, 'CDR file: write failed'));
    this.#sub = records$.subscribe((r) => {
      this.#out.write(`${JSON.stringify(r)}\n`);
      this.written++;
    });
  }

  /** Stops taking records; resolves once what was written is flushed. */
  close(): Promise<void> {
    this.#sub.unsubscribe();
    return new Promise((resolve) => this.#out.end(() => resolve()));
  }
}
