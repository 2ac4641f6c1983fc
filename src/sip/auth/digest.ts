import { md5 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { err, ok, type Result } from '../../kernel/result.ts';
import { Scanner } from '../message/grammar.ts';

/**
 * HTTP Digest for SIP (RFC 3261 22.4, RFC 2617, RFC 7616; SHA-256 in SIP per RFC 8760). Pure: the hashes
 * are @noble/hashes (Web Crypto has no MD5 and is async only).
 */

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
const ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess'];

export interface Challenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string;
  readonly algorithm: DigestAlgorithm;
  /** qop options offered; we answer "auth" when it is among them. */
  readonly qop: readonly string[];
  readonly stale: boolean;
}

/** Parses `Digest realm="..", nonce="..", ...` (auth-params: token=token|quoted-string, comma separated). */
export function parseChallenge(value: string): Result<Challenge, string> {
  const params = parseAuthParams(value);
  if (!params.ok) return params;
  const { scheme, map } = params.value;
  if (scheme.toLowerCase() !== 'digest') return err(`unsupported auth scheme ${scheme}`);
  const realm = map.get('realm');
  const nonce = map.get('nonce');
  if (realm === undefined || nonce === undefined) return err('challenge without realm or nonce');
  const algoText = map.get('algorithm') ?? 'MD5';
  const algorithm = ALGORITHMS.find((a) => a.toLowerCase() === algoText.toLowerCase());
  if (!algorithm) return err(`unsupported digest algorithm ${algoText}`);
  const opaque = map.get('opaque');
  return ok({
    realm,
    nonce,
    algorithm,
    qop: (map.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter((q) => q.length > 0),
    stale: (map.get('stale') ?? '').toLowerCase() === 'true',
    ...(opaque !== undefined ? { opaque } : {}),
  });
}

export function parseAuthParams(value: string): Result<{ scheme: string; map: Map<string, string> }, string> {
  const sc = new Scanner(value.trim());
  const scheme = sc.token();
  if (!scheme) return err('missing auth scheme');
  const map = new Map<string, string>();
  for (;;) {
    sc.skipWs();
    if (sc.done) break;
    const name = sc.token().toLowerCase();
    if (!name || !sc.eat('=')) return err('malformed auth-param');
    let v: string | undefined;
    if (sc.peek() === '"') v = sc.quoted();
    else v = sc.token();
    if (v === undefined) return err(`unterminated value for ${name}`);
    map.set(name, v);
    sc.skipWs();
    if (!sc.done && !sc.eat(',')) return err('expected , between auth-params');
  }
  return ok({ scheme, map });
}

const enc = new TextEncoder();
function hash(algorithm: DigestAlgorithm, s: string): string {
  const data = enc.encode(s);
  return bytesToHex(algorithm.startsWith('SHA-256') ? sha256(data) : md5(data));
}

export interface DigestInput {
  readonly challenge: Challenge;
  readonly method: string;
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  /** Client nonce and nonce count; required when qop is used. */
  readonly cnonce: string;
  readonly nc: number;
}

/** request-digest of RFC 2617 3.2.2.1 / RFC 7616 3.4.1. */
export function digestResponse(i: DigestInput): { response: string; qop?: 'auth' } {
  const c = i.challenge;
  let ha1 = hash(c.algorithm, `${i.username}:${c.realm}:${i.password}`);
  if (c.algorithm.endsWith('-sess')) ha1 = hash(c.algorithm, `${ha1}:${c.nonce}:${i.cnonce}`);
  const ha2 = hash(c.algorithm, `${i.method}:${i.uri}`);
  if (c.qop.includes('auth')) {
    const nc = ncText(i.nc);
    return { response: hash(c.algorithm, `${ha1}:${c.nonce}:${nc}:${i.cnonce}:auth:${ha2}`), qop: 'auth' };
  }
  return { response: hash(c.algorithm, `${ha1}:${c.nonce}:${ha2}`) };
}

const ncText = (nc: number): string => nc.toString(16).padStart(8, '0');

/** The Authorization / Proxy-Authorization value answering a challenge. */
export function authorizationHeader(i: DigestInput): string {
  const { response, qop } = digestResponse(i);
  const c = i.challenge;
  const parts = [
    `username="${i.username}"`,
    `realm="${c.realm}"`,
    `nonce="${c.nonce}"`,
    `uri="${i.uri}"`,
    `response="${response}"`,
    `algorithm=${c.algorithm}`,
  ];
  if (qop) parts.push(`cnonce="${i.cnonce}"`, `qop=${qop}`, `nc=${ncText(i.nc)}`);
  if (c.opaque !== undefined) parts.push(`opaque="${c.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

/**
 * The challenge to answer among several (RFC 8760 2.4: a UAS may offer SHA-256 and MD5; "the UAC SHOULD
 * use the first one it supports"). Returns undefined when none is usable.
 */
export function pickChallenge(values: readonly string[]): Challenge | undefined {
  for (const v of values) {
    const c = parseChallenge(v);
    if (c.ok) return c.value;
  }
  return undefined;
}
