import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { type Observable, Subject } from 'rxjs';

export interface Datagram {
  readonly data: Uint8Array;
  readonly address: string;
  readonly port: number;
}

/**
 * The SIP socket: one UDP socket on SIP_LOCAL_IP:SIP_LOCAL_PORT, received datagrams as an RxJS stream,
 * and send() from the same socket (so rport/symmetric response routing works, RFC 3581).
 */
export class SipUdpAdapter {
  readonly #socket: Socket;
  readonly #incoming = new Subject<Datagram>();
  readonly datagrams$: Observable<Datagram> = this.#incoming.asObservable();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('message', (data, rinfo) =>
      this.#incoming.next({ data, address: rinfo.address, port: rinfo.port }),
    );
    socket.on('close', () => this.#incoming.complete());
  }

  static bind(host: string, port: number, onError: (e: Error) => void = () => {}): Promise<SipUdpAdapter> {
    return new Promise((resolve, reject) => {
      const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false });
      const onBindError = (e: Error) => reject(e);
      socket.once('error', onBindError);
      socket.bind(port, host, () => {
        socket.off('error', onBindError);
        const adapter = new SipUdpAdapter(socket);
        // a burst of INVITEs (a PBX failing over to us) must not overflow the kernel's default buffer
        try {
          socket.setRecvBufferSize(4 * 1024 * 1024);
        } catch {
          // capped by net.core.rmem_max: the default stays
        }
        // After bind, socket errors (e.g. ICMP unreachable reported on send) must not crash the process.
        socket.on('error', onError);
        resolve(adapter);
      });
    });
  }

  address(): { address: string; port: number } {
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }

  send(bytes: Uint8Array, port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.send(bytes, port, host, (e) => (e ? reject(e) : resolve()));
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
