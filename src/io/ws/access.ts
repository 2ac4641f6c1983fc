import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * Who may open a WebSocket (or the inspector's page) on this machine. Browsers send `Origin` on every
 * WebSocket handshake and let any page connect anywhere, so without a check any web site the user opens can
 * drive the relay on 127.0.0.1 (cross-site WebSocket hijacking). Rule: a request without `Origin` (not a
 * browser: bots, scripts, sipp-style tools) is allowed; a browser's Origin must be in WS_ORIGINS when it is
 * set, and otherwise a loopback page (`http(s)://localhost`, `127.0.0.0/8`, `[::1]`, any port).
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed && allowed.length > 0) return allowed.includes(origin);
  return isLoopbackOrigin(origin);
}

/** `http(s)://localhost`, `127.x.x.x` or `[::1]` with any port; "null" (sandboxed pages, files) is not. */
export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  const host = url.hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/**
 * WS_TOKEN from `?token=` or `Authorization: Bearer <token>`, compared in constant time. RFC 7235 2.1: "It
 * uses a case-insensitive token as a means to identify the authentication scheme", so `bearer` counts too.
 */
export function presentsToken(req: IncomingMessage, token: string): boolean {
  const url = new URL(req.url ?? '/', 'ws://relay');
  const auth = /^bearer[ \t]+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
  const given = url.searchParams.get('token') ?? auth;
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
