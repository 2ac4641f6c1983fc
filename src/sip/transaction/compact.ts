import { headerLines, headerValues } from '../message/headers.ts';
import { isRequest, type ParsedRequest, parseMessage } from '../message/parse.ts';
import { serialize } from '../message/serialize.ts';
import type { Header, SipMessage, SipResponse } from '../message/types.ts';

const NONE = new Uint8Array(0);
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * A copy of `s` that shares no memory with the text it was cut from. Keys made from header values are
 * V8 slices and concatenations of the whole received message (a 60 KB request is kept alive by its
 * 40-character transaction key); the tables keep keys for up to 32 s.
 */
export function fresh(s: string): string {
  return dec.decode(enc.encode(s));
}

/** Bytes a message takes on the wire (about what it holds in memory as strings and body). */
export function messageSize(m: SipMessage): number {
  let n = 32 + m.body.length;
  for (const h of m.headers) n += h.name.length + h.value.length + 4;
  return n;
}

/**
 * What a server transaction still needs once its final response is sent (RFC 3261 17.2: it absorbs
 * retransmitted requests and resends that response until Timer J or I; matching uses the key it already
 * has): the request's top Via, From, To, Call-ID and CSeq, and the response. Both are rebuilt from fresh bytes,
 * because parsed header values are slices of the whole received text and the body a view of the whole
 * datagram: kept as they are, a 60 KB OPTIONS would stay 60 KB (twice) for 32 s.
 */
export function compactRequest(req: ParsedRequest): ParsedRequest {
  // the top Via only: the response, built already, carries them all
  const headers: Header[] = [{ name: 'Via', value: headerValues(req.msg, 'via')[0] ?? '' }];
  for (const name of ['from', 'to', 'call-id', 'cseq'])
    for (const h of headerLines(req.msg, name)) headers.push(h);
  const bytes = serialize({ ...req.msg, headers, body: NONE });
  const again = parseMessage(bytes);
  return again.ok && isRequest(again.value) ? again.value : req;
}

export function compactResponse(res: SipResponse): SipResponse {
  const again = parseMessage(serialize(res));
  return again.ok && again.value.msg.kind === 'response' ? again.value.msg : res;
}
