/** The clock every timer in the SIP layer runs on: real in src/io/clock.ts, manual in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
