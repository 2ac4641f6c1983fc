import { isIP } from 'node:net';
import { connect, createServer } from 'node:tls';
import type { TlsMaterial } from '../config/tls-files.ts';
import type { StreamFlavour } from './sip-stream.adapter.ts';

/** How long a TLS handshake may take before the socket is dropped (a peer that never finishes it). */
const HANDSHAKE_MS = 10_000;

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
        { cert: m.cert, key: m.key, minVersion: 'TLSv1.2', handshakeTimeout: HANDSHAKE_MS },
        onSocket,
      );
      server.on('tlsClientError', () => {}); // garbage or plain text on the TLS port: that socket only
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
