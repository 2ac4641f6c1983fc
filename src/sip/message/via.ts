import { err, ok, type Result } from '../../kernel/result.ts';
import { isDigits, parseBoundedInt, Scanner } from './grammar.ts';
import { type HostKind, isIPv4, isIPv6, parseHostPort } from './host.ts';
import { type Params, param, parseParams, serializeParams } from './params.ts';

/** RFC 3261 8.1.1.7: a branch starting with this cookie was made by an RFC 3261 client transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** via-parm = sent-protocol LWS sent-by *( SEMI via-params )   (RFC 3261 20.42, 25.1) */
export interface Via {
  /** sent-protocol name and version as written: "SIP" and "2.0" on every valid message. */
  readonly protocol: string;
  readonly transport: string;
  readonly host: string;
  readonly hostKind: HostKind;
  readonly port?: number;
  readonly params: Params;
}

export function parseVia(value: string): Result<Via, string> {
  const sc = new Scanner(value);
  sc.skipWs();
  const proto = sc.token();
  if (!sc.eat('/')) return err('malformed Via sent-protocol');
  const version = sc.token();
  if (!sc.eat('/')) return err('malformed Via sent-protocol');
  const transport = sc.token();
  // The version is checked by the message parser, not here: a 505 still needs a Via to go back along.
  if (proto.length === 0 || version.length === 0 || transport.length === 0)
    return err('malformed Via sent-protocol');
  sc.skipWs();
  let hostText: string;
  if (sc.peek() === '[') {
    hostText = `${sc.until(']')}]`;
    if (sc.done) return err('unterminated IPv6 reference in Via');
    sc.pos++;
  } else {
    hostText = sc.until(' \t;:,');
  }
  let portText = '';
  if (sc.eat(':')) {
    portText = sc.token();
    if (!isDigits(portText)) return err('malformed Via port');
  }
  const hp = parseHostPort(portText ? `${hostText}:${portText}` : hostText);
  if (!hp) return err('malformed Via sent-by');
  const params = parseParams(sc);
  if (typeof params === 'string') return err(`Via: ${params}`);
  if (!sc.done) return err('unexpected text in Via');
  const problem = checkViaParams(params);
  if (problem) return err(problem);
  return ok({
    protocol: `${proto.toUpperCase()}/${version}`,
    transport: transport.toUpperCase(),
    host: hp.host,
    hostKind: hp.kind,
    params,
    ...(hp.port !== undefined ? { port: hp.port } : {}),
  });
}

function checkViaParams(params: Params): string | undefined {
  for (const [name, value] of params) {
    switch (name.toLowerCase()) {
      case 'branch':
        if (!value) return 'Via branch without value';
        break;
      case 'received': {
        // RFC 5118 4.5: accept both "received=2001:db8::9:255" and "received=[2001:db8::9:255]"
        const v = value ?? '';
        const bare = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
        if (!isIPv4(bare) && !isIPv6(bare)) return 'Via received is not an IP address';
        break;
      }
      case 'rport':
        if (value !== null && parseBoundedInt(value, 65535) === undefined) return 'malformed Via rport';
        break;
      case 'ttl':
        if (value === null || parseBoundedInt(value, 255) === undefined) return 'malformed Via ttl';
        break;
    }
  }
  return undefined;
}

export function serializeVia(via: Via): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `${via.protocol}/${via.transport} ${via.host}${port}${serializeParams(via.params)}`;
}

export const viaBranch = (via: Via): string | undefined => param(via.params, 'branch') ?? undefined;

/** "host:port" as it identifies the client (RFC 3261 17.2.3 compares sent-by). */
export const viaSentBy = (via: Via): string => `${via.host}:${via.port ?? ''}`;
