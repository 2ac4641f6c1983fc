import { err, ok, type Result } from '../../kernel/result.ts';
import { type HostKind, parseHostPort } from './host.ts';

/**
 * SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ]   (RFC 3261 19.1.1, 25.1)
 * Everything is kept as written (escapes included) so serialize(parse(x)) is stable; unescape() decodes.
 */
export interface SipUri {
  readonly kind: 'sip';
  readonly scheme: 'sip' | 'sips';
  readonly user?: string;
  readonly password?: string;
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port?: number;
  readonly params: ReadonlyArray<readonly [string, string | null]>;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Any other absoluteURI (tel:, http:, isbn:, urn: ...): scheme plus the opaque rest. */
export interface AbsoluteUri {
  readonly kind: 'absolute';
  readonly scheme: string;
  readonly opaque: string;
}

export type Uri = SipUri | AbsoluteUri;

/** Characters never allowed unescaped in a URI on the wire (whitespace, controls, delimiters). */
function hasForbidden(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x3c || c === 0x3e || c === 0x22) return true;
  }
  return false;
}

/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
function isScheme(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*$/.test(s) && s.length <= 64;
}

export function parseUri(text: string): Result<Uri, string> {
  const colon = text.indexOf(':');
  if (colon <= 0) return err('URI has no scheme');
  const scheme = text.slice(0, colon);
  if (!isScheme(scheme)) return err('malformed URI scheme');
  if (hasForbidden(text)) return err('URI contains whitespace or a forbidden character');
  const lower = scheme.toLowerCase();
  const rest = text.slice(colon + 1);
  if (lower === 'sip' || lower === 'sips') return parseSipUri(lower, rest);
  if (rest.length === 0) return err('empty URI');
  return ok({ kind: 'absolute', scheme: lower, opaque: rest });
}

function parseSipUri(scheme: 'sip' | 'sips', rest: string): Result<SipUri, string> {
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = rest;
  // '@' can only appear unescaped as the end of userinfo (it is neither a paramchar nor an hnv char)
  const at = rest.indexOf('@');
  if (at !== -1) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = pc === -1 ? userinfo : userinfo.slice(0, pc);
    if (pc !== -1) password = userinfo.slice(pc + 1);
    if (user.length === 0) return err('empty user part in SIP URI');
  }
  let end = 0;
  while (end < hostPart.length && hostPart[end] !== ';' && hostPart[end] !== '?') end++;
  const hp = parseHostPort(hostPart.slice(0, end));
  if (!hp) return err('malformed host or port in SIP URI');

  const params: [string, string | null][] = [];
  const headers: [string, string][] = [];
  let tail = hostPart.slice(end);
  const q = tail.indexOf('?');
  const paramText = q === -1 ? tail : tail.slice(0, q);
  const headerText = q === -1 ? undefined : tail.slice(q + 1);
  tail = '';
  if (paramText.length > 0) {
    for (const p of paramText.slice(1).split(';')) {
      const eq = p.indexOf('=');
      const name = eq === -1 ? p : p.slice(0, eq);
      const value = eq === -1 ? null : p.slice(eq + 1);
      if (name.length === 0) return err('empty URI parameter');
      if (value !== null && value.length === 0) return err(`empty value for URI parameter ${name}`);
      params.push([name, value]);
    }
  }
  if (headerText !== undefined) {
    for (const h of headerText.split('&')) {
      const eq = h.indexOf('=');
      if (eq <= 0) return err('malformed URI header');
      headers.push([h.slice(0, eq), h.slice(eq + 1)]);
    }
  }
  const uri: SipUri = {
    kind: 'sip',
    scheme,
    host: hp.host,
    hostKind: hp.kind,
    params,
    headers,
    ...(user !== undefined ? { user } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(hp.port !== undefined ? { port: hp.port } : {}),
  };
  return ok(uri);
}

export function serializeUri(uri: Uri): string {
  if (uri.kind === 'absolute') return `${uri.scheme}:${uri.opaque}`;
  let s = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    s += uri.user;
    if (uri.password !== undefined) s += `:${uri.password}`;
    s += '@';
  }
  s += uri.host;
  if (uri.port !== undefined) s += `:${uri.port}`;
  for (const [n, v] of uri.params) s += v === null ? `;${n}` : `;${n}=${v}`;
  if (uri.headers.length > 0) s += `?${uri.headers.map(([n, v]) => `${n}=${v}`).join('&')}`;
  return s;
}

/** A URI parameter by case-insensitive name: undefined when absent, null when present without value. */
export function uriParam(uri: SipUri, name: string): string | null | undefined {
  const lower = name.toLowerCase();
  const found = uri.params.find(([n]) => n.toLowerCase() === lower);
  return found ? found[1] : undefined;
}

/** Decodes %HH escapes as UTF-8; an invalid escape ("%Z4") stays literal. NULs survive (RFC 4475 3.1.1.4). */
export function unescapeUri(s: string): string {
  if (!s.includes('%')) return s;
  const enc = new TextEncoder();
  const bytes: number[] = [];
  let i = 0;
  while (i < s.length) {
    const pct = s.indexOf('%', i);
    const runEnd = pct === -1 ? s.length : pct;
    for (const b of enc.encode(s.slice(i, runEnd))) bytes.push(b);
    if (pct === -1) break;
    const hex = s.slice(pct + 1, pct + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i = pct + 3;
    } else {
      bytes.push(0x25);
      i = pct + 1;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/**
 * The user a URI names, unescaped: a SIP URI's user part, or a tel: URI's number (RFC 3966, without its
 * parameters). Undefined for a URI without one.
 */
export function uriUser(uri: Uri): string | undefined {
  if (uri.kind === 'sip') return uri.user === undefined ? undefined : unescapeUri(uri.user);
  if (uri.scheme.toLowerCase() === 'tel') return unescapeUri(uri.opaque.split(';')[0]!);
  return undefined;
}
