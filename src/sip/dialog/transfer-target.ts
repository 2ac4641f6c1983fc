import { err, ok, type Result } from '../../kernel/result.ts';
import { bareHost, isIPv4, isIPv6, parseHostPort } from '../message/host.ts';
import { parseUri, type SipUri, serializeUri, unescapeUri, uriParam } from '../message/uri.ts';
import { defaultPort, type TransportName, transportOf } from '../transport/transport.ts';

/**
 * Where a call may be transferred (TRANSFER_ALLOWED_TARGETS), and what a transfer target is. Every target,
 * whether a client, a REFER we received or the AI named it, passes here before anything is sent: a caller
 * who steers a model, or a PBX that refers us, must not make the relay dial out anywhere (toll fraud).
 *
 * A pattern is a host (`pbx.example.com`, `10.0.0.5`, `[2001:db8::1]`: any user, any port), a host and port
 * (`10.0.0.5:5060`), or a SIP URI (`sip:1002@pbx`, `sip:+4930*@trunk:5061`) whose user may hold `*`
 * (any run of characters); a URI pattern without a port takes any port.
 */
export interface TargetPattern {
  readonly text: string;
  readonly user: RegExp | undefined;
  readonly host: string;
  readonly port: number | undefined;
}

const glob = (user: string): RegExp =>
  new RegExp(`^${user.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

export function parseTargetPattern(text: string): Result<TargetPattern, string> {
  if (/^sips?:/i.test(text)) {
    const u = parseUri(text);
    if (!u.ok || u.value.kind !== 'sip') return err(`"${text}" is not a SIP URI`);
    if (u.value.params.length > 0 || u.value.headers.length > 0)
      return err(`"${text}": a pattern names user, host and port only (no ;parameters or ?headers)`);
    return ok({
      text,
      user: u.value.user === undefined ? undefined : glob(unescapeUri(u.value.user)),
      host: bareHost(u.value.host).toLowerCase(),
      port: u.value.port,
    });
  }
  const hp = parseHostPort(text);
  if (!hp) return err(`"${text}" is neither a host, host:port nor a sip: URI`);
  return ok({ text, user: undefined, host: bareHost(hp.host).toLowerCase(), port: hp.port });
}

/** Parses every pattern; the error lists each bad one. */
export function parseTargetPatterns(list: readonly string[]): Result<TargetPattern[], string> {
  const out: TargetPattern[] = [];
  const bad: string[] = [];
  for (const t of list) {
    const p = parseTargetPattern(t);
    if (p.ok) out.push(p.value);
    else bad.push(p.error);
  }
  return bad.length > 0 ? err(bad.join('; ')) : ok(out);
}

/** Whether `uri` is one of the allowed targets. */
export function targetAllowed(patterns: readonly TargetPattern[], uri: SipUri): boolean {
  const host = bareHost(uri.host).toLowerCase();
  return patterns.some(
    (p) =>
      p.host === host &&
      (p.port === undefined || p.port === (uri.port ?? (uri.scheme === 'sips' ? 5061 : 5060))) &&
      (p.user === undefined || (uri.user !== undefined && p.user.test(unescapeUri(uri.user)))),
  );
}

/** A transfer target ready to be referred to or dialled: its URI, parsed and as text. */
export interface TransferTarget {
  readonly uri: SipUri;
  readonly text: string;
}

/**
 * A target as a client or the AI names it: a bare number becomes `sip:{number}@{uriHost}` (the upstream
 * server, SIP_SERVER_IP:SIP_TRANSFER_PORT); anything else must be a sip: or sips: URI. A URI that would
 * steer the request elsewhere than its host (`maddr`), or add headers to it (`?Route=...`, RFC 3261 19.1.5),
 * is refused: the allow list judges the host, so the host must be where the request goes. `Replaces` is the
 * one header allowed (an attended transfer's, RFC 3891).
 */
export function resolveTransferTarget(
  target: string,
  uriHost: string,
  patterns: readonly TargetPattern[],
): Result<TransferTarget, { code: 'bad_target' | 'forbidden_target'; message: string }> {
  const t = target.trim();
  const text = /^\+?[0-9A-Za-z*#._-]{1,64}$/.test(t) ? `sip:${t}@${uriHost}` : t.replace(/^<(.*)>$/, '$1');
  const u = parseUri(text);
  if (!u.ok || u.value.kind !== 'sip')
    return err({ code: 'bad_target', message: `"${t.slice(0, 80)}" is neither a number nor a sip: URI` });
  const uri = u.value;
  if (uriParam(uri, 'maddr') !== undefined)
    return err({ code: 'bad_target', message: 'a transfer target may not carry maddr' });
  if (uri.headers.some(([n]) => n.toLowerCase() !== 'replaces'))
    return err({ code: 'bad_target', message: 'a transfer target may carry no URI headers but Replaces' });
  if (!targetAllowed(patterns, uri))
    return err({
      code: 'forbidden_target',
      message: `${serializeUri({ ...uri, headers: [] })} is not in TRANSFER_ALLOWED_TARGETS`,
    });
  return ok({ uri, text: serializeUri(uri) });
}

/**
 * Where a call to a transfer target goes: its host when that is an IP address (port and transport from the
 * URI: `transport=`, or TLS for sips:), else `upstream` (SIP_SERVER_IP: we resolve no names, RFC 3263 is
 * not done here, so a named target is reached through the upstream server as an outbound proxy).
 */
export function targetHop(
  uri: SipUri,
  upstream: { readonly host: string; readonly port: number; readonly transport?: TransportName },
): { host: string; port: number; transport?: TransportName } {
  const host = bareHost(uri.host);
  if (!isIPv4(host) && !isIPv6(host)) return upstream;
  const param = uriParam(uri, 'transport');
  const transport =
    (param ? transportOf(param) : undefined) ?? (uri.scheme === 'sips' ? 'tls' : upstream.transport);
  return { host, port: uri.port ?? defaultPort(transport), ...(transport ? { transport } : {}) };
}

/**
 * The Request-URI and the headers of a call made for a REFER: the URI without its headers, and RFC 3891's
 * Replaces from `?Replaces=` (unescaped) when the referrer put one there (an attended transfer).
 */
export function referredRequest(t: TransferTarget): { uri: string; replaces: string | undefined } {
  const replaces = t.uri.headers.find(([n]) => n.toLowerCase() === 'replaces')?.[1];
  return {
    uri: serializeUri({ ...t.uri, headers: [] }),
    replaces: replaces === undefined ? undefined : unescapeUri(replaces),
  };
}
