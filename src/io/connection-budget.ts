import type { Server } from 'node:net';

/**
 * Connections one listener set may hold: in all, and from any one address, so that one source cannot take
 * every slot from the others (1,000 idle TCP connections or half-open TLS handshakes from one address filled
 * SIP_TCP_MAX_CONNECTIONS for every other peer). One budget is shared by the listeners it covers (SIP's TCP
 * and TLS together), so the total is what the setting says, not once per listener.
 */
export class ConnectionBudget {
  readonly #bySource = new Map<string, number>();
  #open = 0;
  /** Connections refused: over the total, or over the source's share. */
  refused = 0;

  constructor(
    readonly max: number,
    readonly maxPerSource: number,
  ) {}

  get open(): number {
    return this.#open;
  }

  /** How many `source` holds now. */
  of(source: string): number {
    return this.#bySource.get(source) ?? 0;
  }

  /** Takes a slot for `source`: why not, or undefined when taken (give it back with `release`). */
  take(source: string): 'total' | 'source' | undefined {
    const mine = this.#bySource.get(source) ?? 0;
    const why = this.#open >= this.max ? 'total' : mine >= this.maxPerSource ? 'source' : undefined;
    if (why) {
      this.refused++;
      return why;
    }
    this.#open++;
    this.#bySource.set(source, mine + 1);
    return undefined;
  }

  release(source: string): void {
    const n = (this.#bySource.get(source) ?? 0) - 1;
    if (n > 0) this.#bySource.set(source, n);
    else this.#bySource.delete(source);
    this.#open = Math.max(0, this.#open - 1);
  }

  /**
   * Makes every connection `server` accepts take its slot first (a TLS handshake included, since 'connection'
   * comes before it): one over the total or its source's share is destroyed at once and `refused` is told.
   */
  guard(server: Server, refused: (source: string, why: 'total' | 'source') => void): void {
    server.on('connection', (socket) => {
      const source = socket.remoteAddress ?? '?';
      const why = this.take(source);
      if (why) {
        socket.destroy();
        refused(source, why);
        return;
      }
      socket.once('close', () => this.release(source));
    });
  }
}
