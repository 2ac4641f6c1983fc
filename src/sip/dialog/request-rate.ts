/**
 * How many requests one dialog may send us (a token bucket, the clock handed in): 20 a second sustained,
 * bursts of 40. A peer flooding its own dialog with UPDATEs or INFOs (about 1,000 a second were tried) costs
 * every other call time on the one event loop; beyond its share it gets 503 with Retry-After (RFC 3261
 * 21.5.4: "temporarily unable to process the request due to a temporary overloading"), which hurts only its
 * own call. BYE and CANCEL are never limited: a call must always be able to end.
 */
export const DIALOG_REQUESTS_PER_S = 20;
export const DIALOG_REQUEST_BURST = 40;

export class DialogRequestRate {
  #tokens = DIALOG_REQUEST_BURST;
  #at: number;
  /** Requests refused so far in this dialog. */
  refused = 0;

  constructor(now: number) {
    this.#at = now;
  }

  /** Whether a request of `method` at `now` (ms) may be taken. */
  take(method: string, now: number): boolean {
    if (method === 'BYE' || method === 'CANCEL' || method === 'ACK') return true;
    this.#tokens = Math.min(
      DIALOG_REQUEST_BURST,
      this.#tokens + ((now - this.#at) / 1000) * DIALOG_REQUESTS_PER_S,
    );
    this.#at = now;
    if (this.#tokens < 1) {
      this.refused++;
      return false;
    }
    this.#tokens -= 1;
    return true;
  }
}
