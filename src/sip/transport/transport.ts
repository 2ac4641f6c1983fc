/** The transports SIP runs on here (RFC 3261 18; TLS is "TLS over TCP", sips: aside). */
export type TransportName = 'udp' | 'tcp' | 'tls';

/** TCP and TLS deliver in order or fail loudly: no retransmissions, no waiting for stray copies. */
export const isReliable = (t: TransportName | undefined): boolean => t === 'tcp' || t === 'tls';

/** The Via sent-protocol's transport token for a transport (RFC 3261 20.42: UDP, TCP, TLS). */
export const viaTransport = (t: TransportName | undefined): string => (t ?? 'udp').toUpperCase();

/** A Via transport token or a URI's transport= value as one of ours; undefined when we do not speak it. */
export function transportOf(token: string | null | undefined): TransportName | undefined {
  const t = (token ?? 'udp').toLowerCase();
  return t === 'udp' || t === 'tcp' || t === 'tls' ? t : undefined;
}
