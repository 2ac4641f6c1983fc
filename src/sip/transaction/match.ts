import { param } from '../message/params.ts';
import type { ParsedRequest, ParsedResponse } from '../message/parse.ts';
import { serializeUri } from '../message/uri.ts';
import { MAGIC_COOKIE, type Via, viaBranch, viaSentBy } from '../message/via.ts';

/**
 * Transaction matching, in one place (RFC 3261 17.1.3 and 17.2.3). A key is a string so the transaction
 * table is a Map.
 */

/** A branch made by an RFC 3261 client: the magic cookie and something after it (RFC 4475 3.2.1). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return (branch?.startsWith(MAGIC_COOKIE) ?? false) && branch!.length > MAGIC_COOKIE.length;
}

/**
 * 17.2.3: "the branch parameter in the request is equal to the one in the top Via header field of the
 * request that created the transaction, ... the sent-by value in the top Via of the request is equal ...,
 * and the method of the request matches the one that created the transaction, except for ACK, where the
 * method of the request that created the transaction is INVITE."
 *
 * Without a magic-cookie branch (RFC 2543 clients) the INVITE matches on Request-URI, From tag, Call-ID,
 * CSeq and top Via, and its ACK on the same with the CSeq number only. The To tag is left out: the INVITE
 * has none and its ACK carries ours, and Call-ID + From tag + CSeq already tell transactions apart.
 *
 * `asMethod` looks up a transaction of another method, e.g. the INVITE a CANCEL refers to (RFC 3261 9.2).
 */
export function serverKey(req: ParsedRequest, asMethod?: string): string {
  const top = req.via[0]!;
  const method = asMethod ?? (req.msg.method === 'ACK' ? 'INVITE' : req.msg.method);
  const branch = viaBranch(top);
  if (isRfc3261Branch(branch)) return `s|${branch}|${viaSentBy(top)}|${method}`;
  return [
    's2543',
    serializeUri(req.ruri),
    req.fromTag ?? '',
    req.callId,
    req.cseq.seq,
    normalizedVia(top),
    method,
  ].join('|');
}

/**
 * 17.1.3: a response matches a client transaction when "the response has the same value of the branch
 * parameter in the top Via header field as the branch parameter in the top Via header field of the request
 * that created the transaction" and "the method parameter in the CSeq header field matches the method of
 * the request that created the transaction" (CANCEL has its own transaction).
 */
export function clientKeyOfResponse(res: ParsedResponse): string | undefined {
  const branch = res.via[0] ? viaBranch(res.via[0]) : undefined;
  return branch === undefined ? undefined : `c|${branch}|${res.cseq.method}`;
}

export function clientKeyOfRequest(req: ParsedRequest): string {
  const branch = viaBranch(req.via[0]!) ?? '';
  return `c|${branch}|${req.msg.method === 'ACK' ? 'INVITE' : req.msg.method}`;
}

/**
 * RFC 3261 8.2.2.2 merged requests: From tag, Call-ID and CSeq of a request without To tag; the same key
 * under a different transaction means the request reached us twice by different paths (482).
 */
export function mergeKey(req: ParsedRequest): string {
  return `${req.fromTag ?? ''}|${req.callId}|${req.cseq.seq}|${req.cseq.method}`;
}

function normalizedVia(v: Via): string {
  return `${v.transport} ${viaSentBy(v)};branch=${param(v.params, 'branch') ?? ''}`;
}
