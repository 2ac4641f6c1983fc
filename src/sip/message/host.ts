import { parseBoundedInt } from './grammar.ts';

/** host = hostname / IPv4address / IPv6reference (RFC 3261 25.1; IPv6 text per RFC 4291 2.2, RFC 5118). */
export type HostKind = 'name' | 'ipv4' | 'ipv6';

export interface HostPort {
  /** As written, lower-cased; IPv6 keeps its brackets. */
  readonly host: string;
  readonly kind: HostKind;
  readonly port?: number;
}

/** dotted quad, each part 0-255 with at most 3 digits (a character loop: this runs on every message). */
export function isIPv4(s: string): boolean {
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i === s.length ? 46 : s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || value > 255) return false;
      parts++;
      digits = 0;
      value = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
      value = value * 10 + (c - 48);
    } else return false;
  }
  return parts === 4;
}

const isHex = (c: string): boolean => /^[0-9a-fA-F]$/.test(c);

/**
 * IPv6address per RFC 4291 2.2 (at most one "::", 8 groups, optional trailing dotted IPv4).
 * RFC 5118 4.10: "2001:db8:::192.0.2.1" (three colons) is invalid even though RFC 3261's ABNF admits it.
 */
export function isIPv6(s: string): boolean {
  if (s.length < 2 || s.length > 45) return false;
  const lastColon = s.lastIndexOf(':');
  if (lastColon === -1) return false;
  let head = s;
  let slots = 8;
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isIPv4(tail)) return false;
    head = s.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
    slots = 6;
  }
  if (head.includes(':::')) return false;
  const dbl = head.indexOf('::');
  if (dbl !== -1 && head.indexOf('::', dbl + 1) !== -1) return false;
  const groupsOf = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const validGroup = (g: string): boolean => g.length >= 1 && g.length <= 4 && [...g].every(isHex);
  if (dbl === -1) {
    const groups = groupsOf(head);
    return groups.length === slots && groups.every(validGroup);
  }
  const left = groupsOf(head.slice(0, dbl));
  const right = groupsOf(head.slice(dbl + 2));
  // "::" stands for one or more groups of zeros
  return left.every(validGroup) && right.every(validGroup) && left.length + right.length < slots;
}

/** hostname = *( domainlabel "." ) toplabel [ "." ]; labels of alphanum and "-" (and "_", seen in the wild). */
export function isHostname(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const name = s.endsWith('.') ? s.slice(0, -1) : s;
  const labels = name.split('.');
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) return false;
    if (label.startsWith('-') || label.endsWith('-')) return false;
    for (const c of label) {
      if (!/[A-Za-z0-9_-]/.test(c)) return false;
    }
  }
  // An all-numeric name must be a dotted quad (toplabel starts with a letter).
  const top = labels[labels.length - 1]!;
  if (/^[0-9]+$/.test(top)) return isIPv4(name);
  return true;
}

/** Parses "host[:port]" where host may be an IPv6 reference "[...]"; whitespace is not allowed. */
export function parseHostPort(s: string): HostPort | undefined {
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close === -1) return undefined;
    host = s.slice(0, close + 1);
    if (!isIPv6(host.slice(1, -1))) return undefined;
    const after = s.slice(close + 1);
    if (after.length > 0) {
      if (!after.startsWith(':')) return undefined;
      portText = after.slice(1);
    }
  } else {
    const colon = s.indexOf(':');
    host = colon === -1 ? s : s.slice(0, colon);
    portText = colon === -1 ? undefined : s.slice(colon + 1);
  }
  const lower = host.toLowerCase();
  const kind: HostKind = lower.startsWith('[') ? 'ipv6' : isIPv4(lower) ? 'ipv4' : 'name';
  if (kind === 'name' && !isHostname(lower)) return undefined;
  if (portText === undefined) return { host: lower, kind };
  const port = portText.length <= 5 ? parseBoundedInt(portText, 65535) : undefined;
  if (port === undefined) return undefined;
  return { host: lower, kind, port };
}

/** The bare address of a host (IPv6 without brackets), e.g. for comparing with a socket address. */
export function bareHost(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A host as a URI, Via or URL writes it: an IPv6 address in brackets (RFC 3261 19.1.1, RFC 5118). */
export function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** False for limited broadcast, multicast and unspecified addresses: never a target for a response. */
export function isUnicast(host: string): boolean {
  if (isIPv4(host)) {
    const a = Number(host.split('.')[0]);
    // 0/8 "this network", 224/4 multicast, 240/4 reserved and 255.255.255.255 limited broadcast; subnet
    // broadcasts depend on the netmask, so the I/O edge passes those of our interfaces in `broadcasts`
    return a !== 0 && a < 224;
  }
  const lower = host.toLowerCase();
  if (lower === '::' || lower.startsWith('ff')) return false;
  if (lower.startsWith('::ffff:')) return isUnicast(lower.slice(7));
  return true;
}
