import { reasonPhrase } from '../status.ts';
import { headerLines } from './headers.ts';
import { bracket } from './host.ts';
import { parseNameAddr, tagOf } from './name-addr.ts';
import type { ParsedRequest, ParsedResponse } from './parse.ts';
import type { Header, SipRequest, SipResponse } from './types.ts';
import { serializeVia } from './via.ts';

const enc = new TextEncoder();

export interface ResponseOptions {
  readonly reason?: string;
  /** To-tag to add when the request had none (RFC 3261 8.2.6.2; never on 100 Trying). */
  readonly toTag?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array | string;
}

/**
 * A response to a request (RFC 3261 8.2.6): Via (all, in order), From, Call-ID, CSeq copied; To copied
 * with a tag added; Timestamp echoed on 100 (8.2.6.1); Content-Length always present.
 * Takes only header lines, so it also answers requests whose start line or headers were malformed.
 */
export function buildResponse(
  request: { readonly headers: readonly Header[] },
  status: number,
  opts: ResponseOptions = {},
): SipResponse {
  const headers: Header[] = [];
  for (const h of headerLines(request, 'via')) headers.push({ name: 'Via', value: h.value });
  for (const name of ['From', 'To', 'Call-ID', 'CSeq'] as const) {
    const line = headerLines(request, name)[0];
    if (!line) continue;
    let value = line.value;
    if (name === 'To' && status > 100 && opts.toTag !== undefined) value = withTag(value, opts.toTag);
    headers.push({ name, value });
  }
  if (status === 100) {
    const ts = headerLines(request, 'timestamp')[0];
    if (ts) headers.push({ name: 'Timestamp', value: ts.value });
  }
  for (const [name, value] of opts.headers ?? []) headers.push({ name, value });
  const body = typeof opts.body === 'string' ? enc.encode(opts.body) : (opts.body ?? new Uint8Array(0));
  headers.push({ name: 'Content-Length', value: String(body.length) });
  return { kind: 'response', status, reason: opts.reason ?? reasonPhrase(status), headers, body };
}

/** Adds ;tag=... to a To/From value that has none (textually, so odd formatting survives). */
export function withTag(value: string, tag: string): string {
  const parsed = parseNameAddr(value);
  if (parsed.ok && tagOf(parsed.value) !== undefined) return value;
  return `${value};tag=${tag}`;
}

/**
 * The ACK a client INVITE transaction sends for a 3xx-6xx (RFC 3261 17.1.1.3): same Request-URI, Call-ID,
 * From, CSeq number; only the top Via of the INVITE; To of the response (with its tag); the INVITE's Route.
 */
export function buildAckForNon2xx(invite: ParsedRequest, response: ParsedResponse): SipRequest {
  const to = headerLines(response.msg, 'to')[0]!.value;
  const headers: Header[] = [
    { name: 'Via', value: serializeVia(invite.via[0]!) },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: headerLines(invite.msg, 'from')[0]!.value },
    { name: 'To', value: to },
    { name: 'Call-ID', value: invite.callId },
    { name: 'CSeq', value: `${invite.cseq.seq} ACK` },
  ];
  for (const r of headerLines(invite.msg, 'route')) headers.push({ name: 'Route', value: r.value });
  headers.push({ name: 'Content-Length', value: '0' });
  return { kind: 'request', method: 'ACK', uri: invite.msg.uri, headers, body: new Uint8Array(0) };
}

/** CANCEL for a pending INVITE (RFC 3261 9.1): same Request-URI, Call-ID, To, From, CSeq number, top Via, Route. */
export function buildCancel(invite: ParsedRequest): SipRequest {
  const headers: Header[] = [
    { name: 'Via', value: serializeVia(invite.via[0]!) },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: headerLines(invite.msg, 'from')[0]!.value },
    { name: 'To', value: headerLines(invite.msg, 'to')[0]!.value },
    { name: 'Call-ID', value: invite.callId },
    { name: 'CSeq', value: `${invite.cseq.seq} CANCEL` },
  ];
  for (const r of headerLines(invite.msg, 'route')) headers.push({ name: 'Route', value: r.value });
  headers.push({ name: 'Content-Length', value: '0' });
  return { kind: 'request', method: 'CANCEL', uri: invite.msg.uri, headers, body: new Uint8Array(0) };
}

export interface RequestSpec {
  readonly method: string;
  readonly uri: string;
  /** Our sent-by: where responses must come back (RFC 3261 18.1.1), e.g. the bound socket; UDP by default. */
  readonly via: { readonly host: string; readonly port: number; readonly transport?: string };
  readonly branch: string;
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  readonly contact?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array | string;
}

/**
 * A new request as a UAC builds it (RFC 3261 8.1.1): Via with our sent-by, the branch and `rport` (RFC
 * 3581: ask for the response at the port we sent from), Max-Forwards 70, From, To, Call-ID, CSeq, Contact.
 */
export function buildRequest(spec: RequestSpec): SipRequest {
  const sentBy = `${bracket(spec.via.host)}:${spec.via.port}`;
  const headers: Header[] = [
    {
      name: 'Via',
      value: `SIP/2.0/${(spec.via.transport ?? 'udp').toUpperCase()} ${sentBy};branch=${spec.branch};rport`,
    },
    { name: 'Max-Forwards', value: '70' },
    { name: 'From', value: spec.from },
    { name: 'To', value: spec.to },
    { name: 'Call-ID', value: spec.callId },
    { name: 'CSeq', value: `${spec.cseq} ${spec.method}` },
  ];
  if (spec.contact) headers.push({ name: 'Contact', value: spec.contact });
  for (const [name, value] of spec.headers ?? []) headers.push({ name, value });
  const body = typeof spec.body === 'string' ? enc.encode(spec.body) : (spec.body ?? new Uint8Array(0));
  headers.push({ name: 'Content-Length', value: String(body.length) });
  return { kind: 'request', method: spec.method, uri: spec.uri, headers, body };
}
