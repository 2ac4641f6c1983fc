import { buildRequest } from '../message/build.ts';
import { header, headerValues } from '../message/headers.ts';
import { bracket } from '../message/host.ts';
import { parseNameAddr } from '../message/name-addr.ts';
import { param } from '../message/params.ts';
import type { ParsedResponse } from '../message/parse.ts';
import type { SipRequest } from '../message/types.ts';
import { type TransportName, transportParam } from '../transport/transport.ts';

export interface RegisterParams {
  readonly registrar: { readonly host: string; readonly port: number; readonly transport?: TransportName };
  /** Address-of-record: our From and To. */
  readonly aor: string;
  /** Where we take calls: user part, and our SIP address. */
  readonly contactUser: string;
  /** Our sent-by on the registrar's transport. */
  readonly local: { readonly host: string; readonly port: number; readonly transport?: TransportName };
  /** RFC 3261 10.2: "the same Call-ID for all registrations" to this registrar, the From tag kept too. */
  readonly callId: string;
  readonly fromTag: string;
  /** "incremented by one for each REGISTER request with the same Call-ID". */
  readonly cseq: number;
  readonly branch: string;
  /** 0 removes our binding (10.2.2). */
  readonly expires: number;
  readonly userAgent: string;
  readonly authorization?: readonly [string, string] | undefined;
}

/** The Request-URI of a REGISTER: the registrar's domain (10.2), here its address. */
export const registrarUri = (r: RegisterParams['registrar']): string => `sip:${bracket(r.host)}:${r.port}`;

/** A REGISTER request (RFC 3261 10.2): To and From are the AOR, Contact our address, Expires what we ask. */
export function registerRequest(p: RegisterParams): SipRequest {
  return buildRequest({
    method: 'REGISTER',
    uri: registrarUri(p.registrar),
    via: p.local,
    branch: p.branch,
    from: `<${p.aor}>;tag=${p.fromTag}`,
    to: `<${p.aor}>`,
    callId: p.callId,
    cseq: p.cseq,
    contact: `<sip:${p.contactUser}@${bracket(p.local.host)}:${p.local.port}${transportParam(p.local.transport)}>`,
    headers: [
      ...(p.authorization ? [p.authorization] : []),
      ['Expires', String(p.expires)],
      ['User-Agent', p.userAgent],
    ],
  });
}

/**
 * RFC 3261 10.2.4: the expiry the registrar granted: the expires param of OUR Contact among the bindings it
 * lists, else the Expires header, else what we asked for.
 */
export function grantedExpires(r: ParsedResponse, asked: number, ourPort: number): number {
  for (const c of headerValues(r.msg, 'contact')) {
    const na = parseNameAddr(c);
    if (!na.ok || na.value.uri.kind !== 'sip' || (na.value.uri.port ?? 5060) !== ourPort) continue;
    const e = param(na.value.params, 'expires');
    if (e && /^\d+$/.test(e)) return Number(e);
  }
  const h = header(r.msg, 'expires');
  return h && /^\d+$/.test(h) ? Number(h) : asked;
}
