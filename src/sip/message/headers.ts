import type { Header } from './types.ts';

/** Compact forms (RFC 3261 7.3.3 and the extensions that registered one with IANA). */
const COMPACT: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

/** Names seen on the wire repeat endlessly: remember their canonical form (bounded, so no memory growth). */
const nameCache = new Map<string, string>();

/** The lower-case long name of a header: "v" and "VIA" are both "via". */
export function canonicalName(name: string): string {
  const cached = nameCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const canonical = COMPACT[lower] ?? lower;
  if (nameCache.size < 2048) nameCache.set(name, canonical);
  return canonical;
}

/**
 * Headers whose value is a comma-separated list (RFC 3261 7.3.1): several lines and one line with commas
 * mean the same. Authorization-style headers contain commas but are not lists, so they are not here.
 */
const LIST_HEADERS = new Set([
  'via',
  'contact',
  'route',
  'record-route',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'allow-events',
  'content-encoding',
  'content-language',
  'in-reply-to',
  'reply-to',
  'warning',
  'error-info',
  'alert-info',
  'call-info',
]);

export const isListHeader = (canonical: string): boolean => LIST_HEADERS.has(canonical);

/** Splits at commas outside quoted strings and angle brackets. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      if (c === '\\') i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '<') depth++;
    else if (c === '>') depth = Math.max(0, depth - 1);
    else if (c === ',' && depth === 0) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out;
}

/** All lines of one header, by any of its names. */
export function headerLines(msg: { headers: readonly Header[] }, name: string): Header[] {
  const want = canonicalName(name);
  return msg.headers.filter((h) => canonicalName(h.name) === want);
}

/** All values of a header: list headers are split at commas, in order across lines. */
export function headerValues(msg: { headers: readonly Header[] }, name: string): string[] {
  const want = canonicalName(name);
  const lines = headerLines(msg, want);
  if (!isListHeader(want)) return lines.map((h) => h.value);
  const out: string[] = [];
  for (const h of lines) for (const v of splitList(h.value)) out.push(v);
  return out;
}

/** The value of a single-valued header (the first line), or undefined. */
export function header(msg: { headers: readonly Header[] }, name: string): string | undefined {
  const want = canonicalName(name);
  return msg.headers.find((h) => canonicalName(h.name) === want)?.value;
}
