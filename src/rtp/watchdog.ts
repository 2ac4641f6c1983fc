/** The media watchdog's limits (0: off). */
export interface MediaTimeouts {
  /** RTP_TIMEOUT_S: no RTP for this long while the peer should send it. */
  readonly inactivityMs: number;
  /** RTP_START_TIMEOUT_S: nothing at all (RTP or RTCP) this long after we started sending. */
  readonly startTimeoutMs: number;
}

/** What the watchdog sees of one stream at a moment. */
export interface StreamState {
  /** How long we have sent without hearing anything from the peer (0 once heard). */
  readonly unheardMs: number;
  /** The peer should be sending (not on hold, not recvonly/inactive on its side). */
  readonly expectsRtp: boolean;
  /** Since the last RTP packet accepted (or the resume from a hold). */
  readonly silentMs: number;
}

/**
 * Whether a call's media has timed out: `never-heard` (we send to an address that never answered: it may
 * not be the peer's at all, SDP aimed at a victim; stop sending and hang up), `inactive` (the peer's RTP
 * stopped: hang up, RFC 3550 leaves the timeout to the application), or undefined.
 */
export function mediaTimeout(s: StreamState, t: MediaTimeouts): 'never-heard' | 'inactive' | undefined {
  if (t.startTimeoutMs > 0 && s.unheardMs > t.startTimeoutMs) return 'never-heard';
  if (t.inactivityMs > 0 && s.expectsRtp && s.silentMs > t.inactivityMs) return 'inactive';
  return undefined;
}

/** How often the watchdog looks: a quarter of the shorter limit, at most every second; undefined: never. */
export function watchdogPeriod(t: MediaTimeouts): number | undefined {
  const limits = [t.inactivityMs, t.startTimeoutMs].filter((ms) => ms > 0);
  return limits.length === 0 ? undefined : Math.min(1000, ...limits.map((ms) => ms / 4));
}

/**
 * Since when we have sent to the peer without hearing anything back (RTP or RTCP), the watchdog's
 * `unheardMs`, and how long the first sound took: from our first packet to the first heard from the peer
 * (undefined: heard before we sent, or never).
 */
export class Hearing {
  #unheardSince: number | undefined;
  #startedAt: number | undefined;
  #firstHeardMs: number | undefined;

  get firstHeardMs(): number | undefined {
    return this.#firstHeardMs;
  }

  /** We start sending at `now`; `heardAlready`: something came from the peer before. */
  started(now: number, heardAlready: boolean): void {
    if (heardAlready) return;
    this.#unheardSince = now;
    this.#startedAt = now;
  }

  /** The media moved to a new address (RFC 3264 8.3.1): it must be heard from there afresh. */
  moved(now: number): void {
    this.#unheardSince = now;
  }

  /** A valid packet (RTP or RTCP) came from the peer. */
  heard(now: number): void {
    if (this.#startedAt !== undefined && this.#firstHeardMs === undefined)
      this.#firstHeardMs = now - this.#startedAt;
    this.#unheardSince = undefined;
  }

  /** How long we have been sending unheard (0 once heard, or while not sending). */
  unheardFor(now: number, sending: boolean): number {
    return this.#unheardSince === undefined || !sending ? 0 : now - this.#unheardSince;
  }
}
