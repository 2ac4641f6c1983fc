import { type ParsedRequest, type ParsedResponse, parseMessage } from '../../src/sip/message/parse.ts';
import type { SipRequest } from '../../src/sip/message/types.ts';

export interface ReqOpts {
  method?: string;
  branch?: string;
  sentBy?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  extra?: string[];
  body?: string;
  ruri?: string;
  contact?: string;
}

/** Raw request text with sensible defaults; every part can be overridden. */
export function requestText(o: ReqOpts = {}): string {
  const method = o.method ?? 'INVITE';
  const body = o.body ?? '';
  const lines = [
    `${method} ${o.ruri ?? 'sip:relay@127.0.0.1:5062'} SIP/2.0`,
    `Via: SIP/2.0/UDP ${o.sentBy ?? '127.0.0.1:5999'};branch=${o.branch ?? 'z9hG4bK-test-1'};rport`,
    'Max-Forwards: 70',
    `From: "Alice" <sip:alice@127.0.0.1>;tag=${o.fromTag ?? 'from1'}`,
    `To: <sip:relay@127.0.0.1>${o.toTag ? `;tag=${o.toTag}` : ''}`,
    `Call-ID: ${o.callId ?? 'call-1@127.0.0.1'}`,
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    `Contact: ${o.contact ?? '<sip:alice@127.0.0.1:5999>'}`,
    ...(o.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function parsedRequest(o: ReqOpts = {}): ParsedRequest {
  const p = parseMessage(Buffer.from(requestText(o)));
  if (!p.ok) throw new Error(p.error.reason);
  return p.value as ParsedRequest;
}

export function rawRequest(o: ReqOpts = {}): SipRequest {
  return parsedRequest(o).msg;
}

/** A response to `req` as a far end would send it (same Via, CSeq, Call-ID; a To tag on non-100). */
export function responseTo(req: { msg: SipRequest }, status: number, toTag = 'far1'): ParsedResponse {
  const get = (n: string) =>
    req.msg.headers.filter((h) => h.name.toLowerCase() === n.toLowerCase()).map((h) => h.value);
  const lines = [
    `SIP/2.0 ${status} Reason`,
    ...get('via').map((v) => `Via: ${v}`),
    `From: ${get('from')[0]}`,
    `To: ${get('to')[0]}${status > 100 && !get('to')[0]!.includes('tag=') ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${get('call-id')[0]}`,
    `CSeq: ${get('cseq')[0]}`,
    'Content-Length: 0',
  ];
  const p = parseMessage(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`));
  if (!p.ok) throw new Error(p.error.reason);
  return p.value as ParsedResponse;
}
