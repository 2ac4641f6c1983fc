import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasBinary } from './peers.ts';

export interface Certs {
  readonly dir: string;
  /** The throw-away CA. */
  readonly ca: string;
  /** Signed by the CA for IP 127.0.0.1 and localhost: server.pem/.key, client.pem/.key. */
  readonly server: { readonly cert: string; readonly key: string; readonly bundle: string };
  readonly client: { readonly cert: string; readonly key: string; readonly bundle: string };
  /** Signed by the CA for the name sip.trunk.test only (no IP SAN): verifies only with SIP_TLS_SERVERNAME. */
  readonly named: { readonly cert: string; readonly key: string; readonly bundle: string };
  /** Self-signed for 127.0.0.1: must be refused. */
  readonly rogue: { readonly cert: string; readonly key: string; readonly bundle: string };
}

/** Whether openssl is there to make certificates (CI requires it, as it does the SIP peers). */
export const hasOpenssl = hasBinary('openssl');

/** A throw-away CA and EC P-256 certificates for 127.0.0.1 in a fresh folder (openssl; nothing is committed). */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'certs-'));
  const f = (n: string) => join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const extensions = (name: string, san: string) =>
    writeFileSync(
      f(`${name}.ext`),
      [
        `subjectAltName=${san}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth,clientAuth',
      ].join('\n'),
    );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = (name: string, san = 'IP:127.0.0.1,DNS:localhost') => {
    extensions(name, san);
    const cn = san.startsWith('IP:') ? '127.0.0.1' : san.slice(4);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      String(Date.now() + name.length),
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    );
  };
  leaf('server');
  leaf('client');
  leaf('named', 'DNS:sip.trunk.test');
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'rogue.key',
    '-out',
    'rogue.pem',
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  );
  const bundle = (n: string) => {
    execFileSync('sh', ['-c', `cat ${n}.pem ${n}.key > ${n}-bundle.pem`], { cwd: dir });
    return f(`${n}-bundle.pem`);
  };
  const pair = (n: string) => ({ cert: f(`${n}.pem`), key: f(`${n}.key`), bundle: bundle(n) });
  return {
    dir,
    ca: f('ca.pem'),
    server: pair('server'),
    client: pair('client'),
    named: pair('named'),
    rogue: pair('rogue'),
  };
}

/** A relay's TLS settings: listening on any free TLS port with `who`'s certificate, verifying with the CA. */
export function tlsRelayEnv(certs: Certs, who: 'server' | 'client' = 'server'): Record<string, string> {
  return {
    SIP_TRANSPORTS: 'udp,tcp,tls',
    SIP_TLS_PORT: '0',
    SIP_TLS_CERT: certs[who].cert,
    SIP_TLS_KEY: certs[who].key,
    SIP_TLS_CA: certs.ca,
  };
}

/** The relay's upstream over TLS at 127.0.0.1:port. */
export const tlsUpstreamEnv = (port: number): Record<string, string> => ({
  SIP_SERVER_IP: '127.0.0.1',
  SIP_TRANSFER_PORT: String(port),
  SIP_SERVER_TRANSPORT: 'tls',
});
