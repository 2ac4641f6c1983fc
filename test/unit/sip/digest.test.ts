import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { answerChallenge } from '../../../src/sip/auth/answer.ts';
import {
  authorizationHeader,
  parseAuthParams,
  parseChallenge,
  pickChallenge,
} from '../../../src/sip/auth/digest.ts';

const h = (alg: string, s: string) => createHash(alg).update(s).digest('hex');

describe('digest authentication (RFC 2617 / 7616 / 8760)', () => {
  it('RFC 2617 3.5 example: qop=auth MD5 response', () => {
    const c = parseChallenge(
      'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    );
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    const v = authorizationHeader({
      challenge: c.value,
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'Circle Of Life',
      cnonce: '0a4f113b',
      nc: 1,
    });
    expect(v).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(v).toContain('qop=auth, nc=00000001');
    expect(v).toContain('opaque="5ccc069c403ebaf9f0171e9517f40e41"');
  });

  it('SHA-256 and no-qop responses match an independent computation', () => {
    const input = {
      method: 'INVITE',
      uri: 'sip:100@pbx',
      username: 'bob',
      password: 'pw',
      cnonce: 'cn',
      nc: 2,
    };
    const sha = parseChallenge('Digest realm="pbx", nonce="n1", algorithm=SHA-256, qop="auth"');
    if (!sha.ok) throw new Error(sha.error);
    const ha1 = h('sha256', 'bob:pbx:pw');
    const ha2 = h('sha256', 'INVITE:sip:100@pbx');
    expect(authorizationHeader({ ...input, challenge: sha.value })).toContain(
      `response="${h('sha256', `${ha1}:n1:00000002:cn:auth:${ha2}`)}"`,
    );
    const plain = parseChallenge('Digest realm="pbx", nonce="n2"');
    if (!plain.ok) throw new Error(plain.error);
    const v = authorizationHeader({ ...input, challenge: plain.value });
    expect(v).toContain(
      `response="${h('md5', `${h('md5', 'bob:pbx:pw')}:n2:${h('md5', 'INVITE:sip:100@pbx')}`)}"`,
    );
    expect(v).not.toContain('qop=');
  });

  it('picks the first supported challenge; rejects other schemes and malformed params', () => {
    expect(
      pickChallenge(['Basic realm="x"', 'Digest realm="r", nonce="n", algorithm=SHA-256'])?.algorithm,
    ).toBe('SHA-256');
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256').ok).toBe(false);
    expect(parseAuthParams('Digest realm="unterminated').ok).toBe(false);
    expect(parseChallenge('Digest nonce="n"').ok).toBe(false);
  });

  it('answerChallenge: 401 -> Authorization, 407 -> Proxy-Authorization; nothing usable or another status -> undefined', () => {
    const creds = { username: 'alice', password: 'secret' };
    const req = { method: 'INVITE', uri: 'sip:bob@example.com' };
    const resp = (status: number, name: string, value: string) => ({ status, headers: [{ name, value }] });
    const ch = 'Digest realm="r", nonce="n", algorithm=MD5';
    const www = answerChallenge(resp(401, 'WWW-Authenticate', ch), req, creds, 'c');
    expect(www?.[0]).toBe('Authorization');
    const ha1 = h('md5', 'alice:r:secret');
    const ha2 = h('md5', 'INVITE:sip:bob@example.com');
    expect(www?.[1]).toContain(`response="${h('md5', `${ha1}:n:${ha2}`)}"`);
    expect(answerChallenge(resp(407, 'Proxy-Authenticate', ch), req, creds)?.[0]).toBe('Proxy-Authorization');
    // a 407 answers the proxy's challenge only, not a WWW-Authenticate it may carry
    expect(answerChallenge(resp(407, 'WWW-Authenticate', ch), req, creds)).toBeUndefined();
    expect(answerChallenge(resp(401, 'WWW-Authenticate', 'Basic realm="r"'), req, creds)).toBeUndefined();
    expect(answerChallenge(resp(403, 'WWW-Authenticate', ch), req, creds)).toBeUndefined();
  });
});
