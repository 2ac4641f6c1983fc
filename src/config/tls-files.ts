import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The TLS material as PEM text (never logged). */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  /** CAs to verify the peers we connect to; absent: Node's bundled roots. */
  readonly ca?: string | undefined;
}

/**
 * Reads SIP_TLS_CERT, SIP_TLS_KEY and SIP_TLS_CA: every unreadable or unparsable file, and a key that does
 * not belong to the certificate, is a problem; a certificate that has expired or is not yet valid is a
 * warning (the relay still starts: a peer may not check). `now` is injected for tests.
 */
export function loadTlsMaterial(
  files: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined },
  now: Date = new Date(),
): { material?: TlsMaterial; problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const read = (key: string, path: string | undefined): string | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      problems.push(
        `${key}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
      return undefined;
    }
  };
  const certPem = read('SIP_TLS_CERT', files.cert);
  const keyPem = read('SIP_TLS_KEY', files.key);
  const caPem = read('SIP_TLS_CA', files.ca);
  let cert: X509Certificate | undefined;
  if (certPem !== undefined) {
    try {
      cert = new X509Certificate(certPem);
      if (new Date(cert.validTo) < now)
        warnings.push(
          `SIP_TLS_CERT: ${files.cert} expired on ${cert.validTo}: peers that check will refuse it`,
        );
      else if (new Date(cert.validFrom) > now)
        warnings.push(`SIP_TLS_CERT: ${files.cert} is not valid before ${cert.validFrom}`);
    } catch (e) {
      problems.push(`SIP_TLS_CERT: ${files.cert} is not a PEM certificate (${(e as Error).message})`);
    }
  }
  if (keyPem !== undefined) {
    try {
      const key = createPrivateKey(keyPem);
      if (cert && !cert.checkPrivateKey(key))
        problems.push(`SIP_TLS_KEY: ${files.key} is not the key of the certificate in ${files.cert}`);
    } catch (e) {
      problems.push(`SIP_TLS_KEY: ${files.key} is not a PEM private key (${(e as Error).message})`);
    }
  }
  if (caPem !== undefined) {
    try {
      new X509Certificate(caPem);
    } catch (e) {
      problems.push(`SIP_TLS_CA: ${files.ca} is not a PEM certificate (${(e as Error).message})`);
    }
  }
  if (problems.length > 0 || certPem === undefined || keyPem === undefined) return { problems, warnings };
  return { material: { cert: certPem, key: keyPem, ...(caPem ? { ca: caPem } : {}) }, problems, warnings };
}
