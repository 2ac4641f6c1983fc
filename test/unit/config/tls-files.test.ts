import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { loadTlsMaterial } from '../../../src/config/tls-files.ts';
import { hasOpenssl, makeCerts } from '../../helpers/certs.ts';

describe.skipIf(!hasOpenssl)('TLS configuration (SIP_TLS_CERT, SIP_TLS_KEY, SIP_TLS_CA)', () => {
  const certs = makeCerts();

  it('tls in SIP_TRANSPORTS without certificate and key: both named at once', () => {
    const r = parseConfig({ SIP_TRANSPORTS: 'udp,tls' });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems.some((p) => p.startsWith('SIP_TLS_CERT: is required'))).toBe(true);
      expect(r.problems.some((p) => p.startsWith('SIP_TLS_KEY: is required'))).toBe(true);
    }
  });

  it('SIP_SERVER_TRANSPORT must be one we listen on', () => {
    const r = parseConfig({ SIP_SERVER_TRANSPORT: 'tcp', SIP_TRANSPORTS: 'udp' });
    expect(!r.ok && r.problems.some((p) => p.startsWith('SIP_SERVER_TRANSPORT'))).toBe(true);
  });

  it('good files load; the material is there and nothing is logged of it', () => {
    const r = parseConfig({
      SIP_TRANSPORTS: 'udp,tls',
      SIP_TLS_CERT: certs.server.cert,
      SIP_TLS_KEY: certs.server.key,
      SIP_TLS_CA: certs.ca,
    });
    expect(r.ok && r.config.tls?.key).toMatch(/PRIVATE KEY/);
    expect(r.ok && r.warnings).toEqual([]);
  });

  it("unreadable files, a non-PEM CA and a key that is not the certificate's: every problem listed", () => {
    const junk = join(certs.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate');
    const r = parseConfig({
      SIP_TRANSPORTS: 'udp,tls',
      SIP_TLS_CERT: certs.server.cert,
      SIP_TLS_KEY: certs.client.key,
      SIP_TLS_CA: junk,
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toEqual([
        expect.stringMatching(/^SIP_TLS_KEY: .* is not the key of the certificate/),
        expect.stringMatching(/^SIP_TLS_CA: .* is not a PEM certificate/),
      ]);
    }
    const missing = loadTlsMaterial({ cert: '/nonexistent/cert.pem', key: '/nonexistent/key.pem' });
    expect(missing.problems).toEqual([
      'SIP_TLS_CERT: cannot read /nonexistent/cert.pem (ENOENT)',
      'SIP_TLS_KEY: cannot read /nonexistent/key.pem (ENOENT)',
    ]);
  });

  it('an expired certificate is a warning, not a stop', () => {
    const later = new Date(Date.now() + 5 * 86_400_000);
    const r = loadTlsMaterial({ cert: certs.server.cert, key: certs.server.key }, later);
    expect(r.material).toBeDefined();
    expect(r.warnings).toEqual([expect.stringMatching(/^SIP_TLS_CERT: .* expired on /)]);
  });
});
