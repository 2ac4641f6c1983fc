import { Subject } from 'rxjs';
import type { RtpPortPool, RtpPorts } from './rtp-port-pool.ts';

/**
 * The calls' RTP/RTCP port pairs, leased from the pool by Call-ID: bound when a call is set up (the call
 * manager sees only the numbers), returned when it is released. Whoever reads a pair's sockets (the media
 * manager) hears `released$` first and lets go of them before the pair goes back to the pool.
 */
export class RtpLeases {
  readonly #leases = new Map<string, RtpPorts>();
  /** A call's pair is about to go back: stop using its sockets now. */
  readonly released$ = new Subject<string>();

  constructor(readonly pool: RtpPortPool) {}

  /** Binds a call's pair (undefined when none is free). */
  async allocate(callId: string): Promise<{ rtpPort: number; rtcpPort: number } | undefined> {
    const ports = await this.pool.allocate();
    if (ports) this.#leases.set(callId, ports);
    return ports;
  }

  /** The sockets of a call's pair, while it holds one. */
  get(callId: string): RtpPorts | undefined {
    return this.#leases.get(callId);
  }

  /** The call is gone: its users let go of the sockets, then the pair goes back. */
  async release(callId: string): Promise<void> {
    const ports = this.#leases.get(callId);
    if (!ports) return;
    this.#leases.delete(callId);
    this.released$.next(callId);
    await this.pool.release(ports);
  }

  /** Every pair goes back (shutdown, after the media has closed). */
  async close(): Promise<void> {
    const all = [...this.#leases.values()];
    this.#leases.clear();
    await Promise.all(all.map((p) => this.pool.release(p)));
    this.released$.complete();
  }
}
