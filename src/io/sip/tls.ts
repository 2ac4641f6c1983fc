import { isIP } from 'node:net';
import { connect, createServer } from 'node:tls';
import type { TlsMaterial } from '../../config/tls-files.ts';
import type { StreamFlavour } from './stream.adapter.ts';

/**
 * How long a TLS handshake may take before the socket is dropped (a peer that never finishes it); until then
 * the socket holds a slot of SIP_TCP_MAX_CONNECTIONS and of its source's SIP_TCP_MAX_PER_SOURCE.
 */
export const TLS_HANDSHAKE_MS = 5_000;

/**
 * SIP over TLS (RFC 3261 26.2, RFC 5630) with node:tls: TLS 1.2 or later only; our certificate and key for
 * the listener and for the connections we open; the peers we connect to are verified against SIP_TLS_CA
 * (else Node's bundled roots) by name: SIP_TLS_SERVERNAME when set, else the host we connect to (an IP
 * address must then be in the certificate's IP SANs).
 */
export function tlsFlavour(m: TlsMaterial, o: { servername?: string | undefined } = {}): StreamFlavour {
  return {
    transport: 'tls',
    server: (onSocket) => {
      const server = createServer(
        { cert: m.cert, key: m.key, minVersion: 'TLSv1.2', handshakeTimeout: TLS_HANDSHAKE_MS },
        onSocket,
      );
      // garbage or plain text on the TLS port, or a handshake not done in time: that socket only. Node emits
      // this and leaves the socket open: without the destroy, a handshake timeout closed nothing
      server.on('tlsClientError', (_e, socket) => socket.destroy());
      return server;
    },
    connect: (host, port) => {
      const servername = o.servername || (isIP(host) ? undefined : host);
      return connect({
        host,
        port,
        ...(servername ? { servername } : {}),
        ...(m.ca ? { ca: m.ca } : {}),
        cert: m.cert,
        key: m.key,
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
      });
    },
    readyEvent: 'secureConnect',
  };
}
