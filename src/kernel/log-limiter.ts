/**
 * Rate-limits a repeated log line: the first occurrence is logged at once, later ones at most once per
 * `everyMs`, each carrying how many were suppressed since the last line. A disk that stays full, or a
 * stranger that keeps knocking, costs one line per interval, not one per event.
 */
export class LogLimiter {
  #last = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(
    private readonly everyMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Calls `log(suppressed)` when a line is due (suppressed: occurrences since the last line), else counts. */
  hit(log: (suppressed: number) => void): void {
    const t = this.now();
    if (t - this.#last < this.everyMs) {
      this.#suppressed++;
      return;
    }
    const n = this.#suppressed;
    this.#last = t;
    this.#suppressed = 0;
    log(n);
  }

  /** Forgets the last line: the next hit logs at once (after a recovery, say). */
  reset(): void {
    this.#last = Number.NEGATIVE_INFINITY;
    this.#suppressed = 0;
  }
}
