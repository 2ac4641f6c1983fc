import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { type LookupOneOptions, lookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';

/** One call's media sockets: RTP on an even port, RTCP on the next odd one (RFC 3550 11). */
export interface RtpPorts {
  readonly rtpPort: number;
  readonly rtcpPort: number;
  readonly rtp: Socket;
  readonly rtcp: Socket;
}

/**
 * dgram resolves the address of every send, and dns.lookup answers even an IP literal on the next tick:
 * one deferred callback per RTP packet. Literals (what SDP carries) are answered at once, so the packet
 * goes to the kernel inside send(); host names still go to dns.lookup.
 */
function literalLookup(
  host: string,
  options: LookupOneOptions | number,
  cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const literal = isIP(host);
  if (literal) cb(null, host, literal);
  else lookup(host, typeof options === 'number' ? { family: options } : options, cb);
}

function bindUdp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup });
    s.once('error', reject);
    s.bind(port, host, () => {
      s.off('error', reject);
      s.on('error', () => {}); // ICMP errors reported on later sends must not crash the process
      resolve(s);
    });
  });
}

const closeSocket = (s: Socket): Promise<void> =>
  new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve();
    }
  });

/**
 * The RTP port pool over RTP_PORT_START..RTP_PORT_END. A pair is taken by binding both sockets, so the
 * advertised port is the bound port; a pair that another process holds is skipped. Every pair comes back
 * when its call ends: release() closes the sockets and returns the port.
 */
export class RtpPortPool {
  readonly #free: number[] = [];
  readonly #busy = new Set<number>();
  readonly #host: string;
  readonly total: number;

  constructor(host: string, start: number, end: number) {
    this.#host = host;
    for (let p = start % 2 === 0 ? start : start + 1; p + 1 <= end; p += 2) this.#free.push(p);
    this.total = this.#free.length;
  }

  get available(): number {
    return this.#free.length;
  }

  get inUse(): number {
    return this.#busy.size;
  }

  /** Whether `port` is one of ours now (a bound RTP or RTCP port). */
  holds(port: number): boolean {
    return this.#busy.has(port) || this.#busy.has(port - 1);
  }

  /**
   * Binds a free pair chosen at random, or undefined when every pair is taken (the caller answers 503).
   * Random, not the lowest: the next call's port cannot be guessed, so a stranger cannot aim packets at a
   * call before it starts (as rtpengine and Asterisk pick theirs).
   */
  async allocate(): Promise<RtpPorts | undefined> {
    const tried: number[] = [];
    try {
      while (this.#free.length > 0) {
        const i = randomInt(this.#free.length);
        const port = this.#free[i]!;
        this.#free[i] = this.#free[this.#free.length - 1]!;
        this.#free.pop();
        let rtp: Socket | undefined;
        try {
          rtp = await bindUdp(this.#host, port);
          const rtcp = await bindUdp(this.#host, port + 1);
          this.#busy.add(port);
          return { rtpPort: port, rtcpPort: port + 1, rtp, rtcp };
        } catch {
          if (rtp) await closeSocket(rtp);
          tried.push(port); // held by someone else: try it again later
        }
      }
      return undefined;
    } finally {
      this.#free.push(...tried);
    }
  }

  async release(ports: RtpPorts): Promise<void> {
    if (!this.#busy.delete(ports.rtpPort)) return; // idempotent
    await Promise.all([closeSocket(ports.rtp), closeSocket(ports.rtcp)]);
    this.#free.push(ports.rtpPort);
  }
}
