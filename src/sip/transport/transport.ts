/** The transports SIP runs on here (RFC 3261 18; TLS is "TLS over TCP", sips: aside). */
export type TransportName = 'udp' | 'tcp' | 'tls';

/** TCP and TLS deliver in order or fail loudly: no retransmissions, no waiting for stray copies. */
export const isReliable = (t: TransportName | undefined): boolean => t === 'tcp' || t === 'tls';

/** The Via sent-protocol's transport token for a transport (RFC 3261 20.42: UDP, TCP, TLS). */
export const viaTransport = (t: TransportName | undefined): string => (t ?? 'udp').toUpperCase();

/**
 * A URI's transport= value (or a Via transport token) as one of ours; undefined when we do not speak it.
 * No default: an absent parameter means "the caller decides" (nextHop falls back to the dialog's
 * transport), never UDP by accident.
 */
export function transportOf(token: string): TransportName | undefined {
  const t = token.toLowerCase();
  return t === 'udp' || t === 'tcp' || t === 'tls' ? t : undefined;
}

/** Where a message came from: the address and port, the transport, and for TCP/TLS the connection. */
export interface Address {
  readonly address: string;
  readonly port: number;
  /** Absent: UDP. */
  readonly transport?: TransportName | undefined;
  /** The connection it came on (TCP/TLS): an id the socket layer gave it. */
  readonly flow?: number | undefined;
}

/** The default port of a transport (RFC 3261 19.1.2: 5060, and 5061 for TLS). */
export const defaultPort = (t: TransportName | undefined): number => (t === 'tls' ? 5061 : 5060);

/** `;transport=tcp` or `;transport=tls` for a URI of ours (RFC 3261 19.1.1); nothing for UDP. */
export const transportParam = (t: TransportName | undefined): string =>
  t && t !== 'udp' ? `;transport=${t}` : '';
