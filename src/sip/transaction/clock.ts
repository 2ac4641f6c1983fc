/** The clock every timer in the SIP layer runs on: real in src/io/clock.ts, manual in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Named one-shot timers on a Clock, with one owner that clears them all: how the hosts of the pure reducers
 * (transaction layer, dialog usages) and the call sessions run the timers their effects ask for.
 */
export class TimerSet<K = string> {
  readonly #clock: Clock;
  readonly #handles = new Map<K, unknown>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Starts (or restarts) the timer `key`. */
  set(key: K, ms: number, fire: () => void): void {
    this.clear(key);
    this.#handles.set(
      key,
      this.#clock.setTimeout(() => {
        this.#handles.delete(key);
        fire();
      }, ms),
    );
  }

  clear(key: K): void {
    const h = this.#handles.get(key);
    if (h === undefined) return;
    this.#clock.clearTimeout(h);
    this.#handles.delete(key);
  }

  clearAll(): void {
    for (const h of this.#handles.values()) this.#clock.clearTimeout(h);
    this.#handles.clear();
  }

  get size(): number {
    return this.#handles.size;
  }
}
