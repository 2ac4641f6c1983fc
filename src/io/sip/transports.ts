import { merge, type Observable } from 'rxjs';
import { map } from 'rxjs/operators';
import { serialize } from '../../sip/message/serialize.ts';
import type { SipMessage } from '../../sip/message/types.ts';
import type { Destination, TransportPort } from '../../sip/transaction/layer.ts';
import type { Address, TransportName } from '../../sip/transport/transport.ts';
import { ConnectionBudget } from '../connection-budget.ts';
import {
  type ConnectFailure,
  DEFAULT_STREAM_LIMITS,
  type FlowFailure,
  SipStreamAdapter,
  type StreamFlavour,
  type StreamLimits,
  type StreamRejection,
} from './stream.adapter.ts';
import { SipUdpAdapter } from './udp.adapter.ts';

export interface Inbound {
  readonly data: Uint8Array;
  readonly source: Address;
}

export interface TransportOptions {
  readonly host: string;
  /** SIP_LOCAL_PORT: UDP and TCP share it (0: any free port, the same for both). */
  readonly port: number;
  /** SIP_TRANSPORTS. */
  readonly transports: readonly TransportName[];
  /** TLS: its port (SIP_TLS_PORT) and how it is set up; needed when transports has 'tls'. */
  readonly tls?: { readonly port: number; readonly flavour: StreamFlavour };
  readonly limits?: Partial<StreamLimits>;
  readonly onError?: (e: Error) => void;
  readonly onConnectFailure?: ConnectFailure;
  readonly onFlowFailure?: FlowFailure;
  /** A TCP or TLS connection refused: over SIP_TCP_MAX_CONNECTIONS, or over its source's share. */
  readonly onRefused?: (source: string, why: 'total' | 'source') => void;
}

/**
 * The SIP sockets, one owner: UDP, TCP on the same port, TLS on its own. Messages from all of them as one
 * stream; send() picks the socket by the destination's transport (the transaction layer's port).
 */
export class SipTransports implements TransportPort {
  readonly udp: SipUdpAdapter | undefined;
  readonly tcp: SipStreamAdapter | undefined;
  readonly tls: SipStreamAdapter | undefined;
  readonly inbound$: Observable<Inbound>;
  readonly rejections$: Observable<StreamRejection>;

  private constructor(udp?: SipUdpAdapter, tcp?: SipStreamAdapter, tls?: SipStreamAdapter) {
    this.udp = udp;
    this.tcp = tcp;
    this.tls = tls;
    const streams = [tcp, tls].filter((s): s is SipStreamAdapter => s !== undefined);
    this.inbound$ = merge(
      ...(udp
        ? [udp.datagrams$.pipe(map((d) => ({ data: d.data, source: { address: d.address, port: d.port } })))]
        : []),
      ...streams.map((s) =>
        s.messages$.pipe(
          map((m) => ({
            data: m.data,
            source: { address: m.address, port: m.port, transport: m.transport, flow: m.flow },
          })),
        ),
      ),
    );
    this.rejections$ = merge(...streams.map((s) => s.rejections$));
  }

  /**
   * Binds what SIP_TRANSPORTS names. With port 0, UDP picks a free port and TCP takes the same number (tried
   * again with another when TCP finds it taken). Whatever was bound is closed again when a step fails.
   */
  static async open(o: TransportOptions): Promise<SipTransports> {
    const want = new Set(o.transports);
    // TCP and TLS share one budget: SIP_TCP_MAX_CONNECTIONS in all, SIP_TCP_MAX_PER_SOURCE from one address
    const limits = { ...DEFAULT_STREAM_LIMITS, ...o.limits };
    const budget = new ConnectionBudget(limits.maxConnections, limits.maxPerSource);
    const opened: Array<{ close(): Promise<void> }> = [];
    try {
      let udp: SipUdpAdapter | undefined;
      let tcp: SipStreamAdapter | undefined;
      for (let attempt = 0; ; attempt++) {
        udp = want.has('udp') ? await SipUdpAdapter.bind(o.host, o.port, o.onError) : undefined;
        const port = udp ? udp.address().port : o.port;
        try {
          tcp = want.has('tcp')
            ? await SipStreamAdapter.listen(o.host, port, streamOpts(o, budget))
            : undefined;
          break;
        } catch (e) {
          await udp?.close();
          if (o.port !== 0 || attempt >= 5 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        }
      }
      if (udp) opened.push(udp);
      if (tcp) opened.push(tcp);
      const tls =
        want.has('tls') && o.tls
          ? await SipStreamAdapter.listen(o.host, o.tls.port, {
              ...streamOpts(o, budget),
              flavour: o.tls.flavour,
            })
          : undefined;
      return new SipTransports(udp, tcp, tls);
    } catch (e) {
      for (const s of opened) await s.close();
      throw e;
    }
  }

  /** The address a transport is bound to (UDP's, else TCP's, for `address()`). */
  address(transport: TransportName = this.udp ? 'udp' : 'tcp'): { address: string; port: number } {
    const s = transport === 'udp' ? this.udp : transport === 'tcp' ? this.tcp : this.tls;
    if (!s) throw new Error(`SIP over ${transport.toUpperCase()} is not enabled (SIP_TRANSPORTS)`);
    return s.address();
  }

  send(message: SipMessage, dest: Destination): Promise<void> {
    const bytes = serialize(message);
    const t = dest.transport ?? 'udp';
    if (t === 'udp') {
      if (!this.udp) return Promise.reject(new Error('SIP over UDP is not enabled (SIP_TRANSPORTS)'));
      return this.udp.send(bytes, dest.port, dest.host);
    }
    const stream = t === 'tcp' ? this.tcp : this.tls;
    if (!stream)
      return Promise.reject(new Error(`SIP over ${t.toUpperCase()} is not enabled (SIP_TRANSPORTS)`));
    return stream.send(bytes, dest);
  }

  /** Closes a connection once what was written to it is sent (after a stream framing error's answer). */
  closeFlow(transport: 'tcp' | 'tls', flow: number): void {
    (transport === 'tcp' ? this.tcp : this.tls)?.closeFlow(flow);
  }

  async close(): Promise<void> {
    await Promise.all([this.udp?.close(), this.tcp?.close(), this.tls?.close()]);
  }
}

function streamOpts(o: TransportOptions, budget: ConnectionBudget) {
  return {
    budget,
    ...(o.onRefused ? { onRefused: o.onRefused } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.onError ? { onError: o.onError } : {}),
    ...(o.onConnectFailure ? { onConnectFailure: o.onConnectFailure } : {}),
    ...(o.onFlowFailure ? { onFlowFailure: o.onFlowFailure } : {}),
  };
}
