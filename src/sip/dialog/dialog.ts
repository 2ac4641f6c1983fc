import { buildRequest } from '../message/build.ts';
import { headerLines, headerValues } from '../message/headers.ts';
import { bareHost, isIPv4, isIPv6 } from '../message/host.ts';
import { parseNameAddr } from '../message/name-addr.ts';
import type { ParsedRequest, ParsedResponse } from '../message/parse.ts';
import type { Header, SipRequest } from '../message/types.ts';
import { serializeUri, uriParam } from '../message/uri.ts';
import { defaultPort, isReliable, type TransportName, transportOf } from '../transport/transport.ts';

/**
 * Dialog state (RFC 3261 12): "A dialog is identified at each UA with a dialog ID, which consists of a
 * Call-ID value, a local tag and a remote tag", plus what in-dialog requests need. Immutable.
 */
export interface Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Our From value on requests we send (name-addr with our tag). */
  readonly localParty: string;
  /** Their To value on requests we send (name-addr with their tag). */
  readonly remoteParty: string;
  /** Remote target: the Contact URI of the peer (12.1.1 / 12.1.2). */
  readonly remoteTarget: string;
  /** Route set, in the order our requests carry it. */
  readonly routeSet: readonly string[];
  readonly localSeq: number;
  readonly remoteSeq: number | undefined;
  /**
   * The transport and connection of the message that made the dialog (the INVITE we answered, the 2xx to
   * ours): our in-dialog requests reuse that connection while it is open (RFC 3261 18.2.2's rule for
   * responses, applied to requests as RFC 5923 does), and its transport when the target names none.
   */
  readonly transport?: TransportName | undefined;
  readonly flow?: number | undefined;
}

export const dialogKey = (callId: string, localTag: string, remoteTag: string): string =>
  `${callId}\u0000${localTag}\u0000${remoteTag}`;

function contactUri(headers: { headers: readonly Header[] }): string | undefined {
  const c = headerValues(headers, 'contact')[0];
  if (!c) return undefined;
  const na = parseNameAddr(c);
  return na.ok ? serializeUri(na.value.uri) : undefined;
}

/**
 * UAS side (12.1.1): "The route set MUST be set to the list of URIs in the Record-Route header field from
 * the request, taken in order ... The remote target MUST be set to the URI from the Contact header field".
 */
export function dialogAsUas(invite: ParsedRequest, localTag: string, localSeq: number): Dialog {
  return {
    callId: invite.callId,
    localTag,
    remoteTag: invite.fromTag ?? '',
    localParty: withTagOnce(headerLines(invite.msg, 'to')[0]!.value, localTag),
    remoteParty: headerLines(invite.msg, 'from')[0]!.value,
    remoteTarget: contactUri(invite.msg) ?? invite.msg.uri,
    routeSet: headerValues(invite.msg, 'record-route'),
    localSeq,
    remoteSeq: invite.cseq.seq,
    transport: invite.source?.transport,
    flow: invite.source?.flow,
  };
}

/**
 * UAC side (12.1.2): "The route set MUST be set to the list of URIs in the Record-Route header field from
 * the response, taken in reverse order"; remote target from the response's Contact.
 */
export function dialogAsUac(invite: ParsedRequest, response: ParsedResponse): Dialog {
  return {
    callId: invite.callId,
    localTag: invite.fromTag ?? '',
    remoteTag: response.toTag ?? '',
    localParty: headerLines(invite.msg, 'from')[0]!.value,
    remoteParty: headerLines(response.msg, 'to')[0]!.value,
    remoteTarget: contactUri(response.msg) ?? invite.msg.uri,
    routeSet: headerValues(response.msg, 'record-route').reverse(),
    localSeq: invite.cseq.seq,
    remoteSeq: undefined,
    transport: response.source?.transport,
    flow: response.source?.flow,
  };
}

function withTagOnce(value: string, tag: string): string {
  const na = parseNameAddr(value);
  if (na.ok && na.value.params.some(([n]) => n.toLowerCase() === 'tag')) return value;
  return `${value};tag=${tag}`;
}

export interface InDialogOptions {
  readonly via: { readonly host: string; readonly port: number; readonly transport?: TransportName };
  readonly branch: string;
  /** CSeq number; defaults to localSeq + 1 (ACK passes the INVITE's number). */
  readonly cseq?: number;
  readonly contact?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: { readonly type: string; readonly data: Uint8Array };
}

/**
 * A request within a dialog (12.2.1.1): To/From/Call-ID from the dialog, Request-URI = remote target and
 * Route = route set (loose routing, RFC 3261 16.12; a strict-routing first hop is not supported).
 */
export function inDialogRequest(
  d: Dialog,
  method: string,
  o: InDialogOptions,
): { request: SipRequest; dialog: Dialog } {
  const cseq = o.cseq ?? d.localSeq + 1;
  const request = buildRequest({
    method,
    uri: d.remoteTarget,
    via: o.via,
    branch: o.branch,
    from: d.localParty,
    to: d.remoteParty,
    callId: d.callId,
    cseq,
    ...(o.contact ? { contact: o.contact } : {}),
    headers: [
      ...d.routeSet.map((r): [string, string] => ['Route', r]),
      ...(o.headers ?? []),
      ...(o.body ? [['Content-Type', o.body.type] as [string, string]] : []),
    ],
    ...(o.body ? { body: o.body.data } : {}),
  });
  return { request, dialog: method === 'ACK' || method === 'CANCEL' ? d : { ...d, localSeq: cseq } };
}

/** Where a request goes: address, port, transport and (to reuse) the connection. */
export interface Hop {
  readonly host: string;
  readonly port: number;
  readonly transport?: TransportName | undefined;
  readonly flow?: number | undefined;
}

/**
 * Where an in-dialog request goes: the first Route when there is a route set, else the remote target
 * (RFC 3261 8.1.2 / RFC 3263 without DNS: only IP literals are resolved here; `fallback` is used for host
 * names, normally the address the peer's messages came from). The transport is the URI's transport
 * parameter (sips: means TLS), else the dialog's; over the dialog's transport its connection is reused.
 */
export function nextHop(d: Dialog, fallback: Hop): Hop {
  const first = d.routeSet[0];
  const target = first ? routeUri(first) : d.remoteTarget;
  const na = parseNameAddr(`<${target}>`);
  if (!na.ok || na.value.uri.kind !== 'sip') return withFlow(d, fallback);
  const uri = na.value.uri;
  const maddr = uriParam(uri, 'maddr');
  const host = bareHost(maddr ?? uri.host);
  if (!isIPv4(host) && !isIPv6(host)) return withFlow(d, fallback);
  const param = uriParam(uri, 'transport');
  const named = param ? transportOf(param) : uri.scheme === 'sips' ? 'tls' : undefined;
  const transport = named ?? d.transport;
  return withFlow(d, { host, port: uri.port ?? defaultPort(transport), transport });
}

function withFlow(d: Dialog, hop: Hop): Hop {
  const transport = hop.transport ?? d.transport;
  const reuse = d.flow !== undefined && transport === d.transport && isReliable(transport);
  return { ...hop, ...(transport ? { transport } : {}), ...(reuse ? { flow: d.flow } : {}) };
}

function routeUri(route: string): string {
  const na = parseNameAddr(route);
  return na.ok ? serializeUri(na.value.uri) : route;
}

export type InDialogVerdict =
  | { readonly ok: true; readonly dialog: Dialog }
  | { readonly ok: false; readonly status: 500; readonly reason: string };

/**
 * A request that matched this dialog (not ACK or CANCEL). RFC 3261 12.2.2: "If the remote sequence number
 * was not empty, but the sequence number of the request is lower than the remote sequence number, the
 * request is out of order and MUST be rejected with a 500 (Server Internal Error) response ... If the remote
 * sequence number was not empty, and the sequence number of the request is greater than the remote sequence
 * number, the request is in order ... the UAS MUST then set the remote sequence number to the value of the
 * sequence number in the CSeq header field value in the request."
 */
export function receiveInDialog(d: Dialog, req: ParsedRequest): InDialogVerdict {
  if (d.remoteSeq !== undefined && req.cseq.seq < d.remoteSeq)
    return { ok: false, status: 500, reason: 'Server Internal Error (CSeq out of order)' };
  return { ok: true, dialog: { ...d, remoteSeq: req.cseq.seq } };
}

/**
 * RFC 3261 12.1.1: "When a UAS responds to a request with a response that establishes a dialog (such as a
 * 2xx to INVITE), the UAS MUST copy all Record-Route header field values from the request into the
 * response ... and MUST maintain the order of those values." Without them the caller sends its ACK and BYE
 * straight to our Contact, past the proxy (a PBX in front of us) that asked to stay in the dialog.
 */
export function recordRouteHeaders(request: ParsedRequest): Array<[string, string]> {
  return headerLines(request.msg, 'record-route').map((h) => ['Record-Route', h.value]);
}
