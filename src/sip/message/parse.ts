import { err, ok, type Result } from '../../kernel/result.ts';
import { badRequest, type SipError, sipError } from '../errors.ts';
import type { Address } from '../transport/transport.ts';
import { isToken, parseBoundedInt } from './grammar.ts';
import { canonicalName, headerLines, isListHeader, splitList } from './headers.ts';
import { type NameAddr, parseNameAddr, tagOf } from './name-addr.ts';
import type { Header, SipMessage, SipRequest, SipResponse } from './types.ts';
import { parseUri, type Uri } from './uri.ts';
import { parseVia, type Via } from './via.ts';

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** A message whose mandatory headers were parsed and checked; the raw message stays the source of truth. */
interface ParsedBase {
  readonly via: readonly Via[];
  readonly from: NameAddr;
  readonly to: NameAddr;
  readonly fromTag: string | undefined;
  readonly toTag: string | undefined;
  readonly callId: string;
  readonly cseq: CSeq;
  readonly maxForwards: number | undefined;
  /** Where it came from (set by the core on receipt; absent on messages we built). */
  readonly source?: Address | undefined;
}
export interface ParsedRequest extends ParsedBase {
  readonly msg: SipRequest;
  readonly ruri: Uri;
}
export interface ParsedResponse extends ParsedBase {
  readonly msg: SipResponse;
}
export type ParsedMessage = ParsedRequest | ParsedResponse;

export const isRequest = (m: ParsedMessage): m is ParsedRequest => m.msg.kind === 'request';

export interface ParseError extends SipError {
  /** What the bytes looked like: a request gets a response, a response is dropped, noise is ignored. */
  readonly kind: 'request' | 'response' | 'noise';
  /** The header lines, when they could be read: enough to build a response (Via, From, To, Call-ID, CSeq). */
  readonly headers?: readonly Header[];
  /** The request method, when the request line could be read (an ACK never gets a response). */
  readonly method?: string;
}

const MAX_HEADERS = 1000;
/** Headers that may appear once only (RFC 3261 7.3.1: only list headers may be repeated). */
const SINGLE = ['call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'expires'];

const utf8 = new TextDecoder('utf-8');
const CR = 0x0d;
const LF = 0x0a;

/**
 * Parses one SIP message from one UDP datagram (RFC 3261 7, 18.3, 25). Never throws: the error says which
 * status a request deserves (400, 505 ...) and carries the framed message when there is one.
 */
export function parseMessage(data: Uint8Array): Result<ParsedMessage, ParseError> {
  const framed = frame(data);
  if (!framed.ok) return framed;
  return checkMessage(framed.value);
}

/** Framing only: start line, header lines, Content-Length. Exported for tests and for stateless replies. */
export function frame(data: Uint8Array): Result<SipMessage, ParseError> {
  // RFC 3261 7.5: ignore CRLFs before the start line (also RFC 5626 keep-alives)
  let start = 0;
  while (start < data.length && (data[start] === CR || data[start] === LF)) start++;
  if (start === data.length) return err({ ...sipError(400, 'empty message'), kind: 'noise' });

  // The head ends at the first empty line (CRLF CRLF, tolerating bare LF).
  let headEnd = -1;
  let bodyStart = data.length;
  let lineStart = start;
  for (let i = data.indexOf(LF, start); i !== -1; i = data.indexOf(LF, i + 1)) {
    const contentEnd = i > lineStart && data[i - 1] === CR ? i - 1 : i;
    if (contentEnd === lineStart && lineStart > start) {
      headEnd = lineStart;
      bodyStart = i + 1;
      break;
    }
    lineStart = i + 1;
  }
  const kindGuess = looksLikeResponse(data, start) ? 'response' : 'request';
  if (headEnd === -1) {
    // a datagram that ends right after a header line has no body; anything else is truncated
    if (data[data.length - 1] !== LF)
      return err({ ...badRequest('missing empty line after headers'), kind: kindGuess });
    headEnd = data.length;
  }
  const lines = utf8.decode(data.subarray(start, headEnd)).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const startLine = stripCr(lines[0] ?? '');

  const headers: Header[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = stripCr(lines[i]!);
    if (line.startsWith(' ') || line.startsWith('\t')) {
      // RFC 3261 7.3.1: a line starting with whitespace continues the previous header (folding)
      const prev = headers.pop();
      if (!prev) return err({ ...badRequest('continuation line without header'), kind: kindGuess });
      headers.push({ name: prev.name, value: `${prev.value} ${line.trim()}`.trim() });
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon === -1 ? '' : line.slice(0, colon).trim();
    if (!isToken(name)) return err({ ...badRequest('malformed header line'), kind: kindGuess });
    headers.push({ name, value: line.slice(colon + 1).trim() });
    if (headers.length > MAX_HEADERS) return err({ ...badRequest('too many headers'), kind: kindGuess });
  }

  const startParsed = parseStartLine(startLine);
  if (!startParsed.ok) return err({ ...startParsed.error, kind: kindGuess, headers });

  const available = data.length - bodyStart;
  let bodyLength = available;
  const cl = headerLines({ headers }, 'content-length');
  const raw: SipMessage = { ...startParsed.value, headers, body: new Uint8Array(0) };
  const fail = (e: SipError): Result<never, ParseError> => err({ ...e, ...context(raw) });
  if (cl.length > 1) return fail(badRequest('multiple Content-Length headers'));
  if (cl.length === 1) {
    const n = parseBoundedInt(cl[0]!.value, 0xffffffff);
    if (n === undefined) return fail(badRequest('bad Content-Length'));
    // RFC 3261 18.3: a body shorter than Content-Length is a 400 for requests (responses are discarded);
    // bytes beyond it MUST be discarded on UDP
    if (n > available) return fail(badRequest('body shorter than Content-Length'));
    bodyLength = n;
  }
  const body = data.slice(bodyStart, bodyStart + bodyLength);
  return ok({ ...raw, body });
}

function context(msg: SipMessage): Pick<ParseError, 'kind' | 'headers' | 'method'> {
  return msg.kind === 'request'
    ? { kind: 'request', headers: msg.headers, method: msg.method }
    : { kind: 'response', headers: msg.headers };
}

function looksLikeResponse(data: Uint8Array, start: number): boolean {
  return (
    data[start] === 0x53 && data[start + 1] === 0x49 && data[start + 2] === 0x50 && data[start + 3] === 0x2f // "SIP/"
  );
}

const stripCr = (s: string): string => (s.endsWith('\r') ? s.slice(0, -1) : s);

type StartLine =
  | { kind: 'request'; method: string; uri: string }
  | { kind: 'response'; status: number; reason: string };

function parseStartLine(line: string): Result<StartLine, SipError> {
  if (line.startsWith('SIP/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (an empty reason is fine: RFC 4475 3.1.1.13)
    const sp1 = line.indexOf(' ');
    const version = sp1 === -1 ? line : line.slice(0, sp1);
    const rest = sp1 === -1 ? '' : line.slice(sp1 + 1);
    const sp2 = rest.indexOf(' ');
    const codeText = sp2 === -1 ? rest : rest.slice(0, sp2);
    const reason = sp2 === -1 ? '' : rest.slice(sp2 + 1);
    if (version !== 'SIP/2.0') return err(sipError(505, `version ${version.slice(0, 16)}`));
    const status = codeText.length === 3 ? parseBoundedInt(codeText, 699) : undefined;
    if (status === undefined || status < 100) return err(badRequest('bad status code'));
    return ok({ kind: 'response', status, reason });
  }
  // Request-Line = Method SP Request-URI SP SIP-Version: exactly two single spaces (RFC 4475 3.1.2.8-10)
  const parts = line.split(' ');
  if (parts.length !== 3 || parts.some((p) => p.length === 0))
    return err(badRequest('malformed request line'));
  const [method, uri, version] = parts as [string, string, string];
  if (!isToken(method)) return err(badRequest('malformed method'));
  if (version !== 'SIP/2.0') {
    if (/^SIP\/[0-9]{1,4}\.[0-9]{1,4}$/i.test(version) && version.toUpperCase() !== 'SIP/2.0') {
      return err(sipError(505));
    }
    if (version.toUpperCase() !== 'SIP/2.0') return err(badRequest('malformed SIP version'));
  }
  return ok({ kind: 'request', method, uri });
}

/** Structured checks of the headers every request and response must carry (RFC 3261 8.1.1, 20). */
function checkMessage(msg: SipMessage): Result<ParsedMessage, ParseError> {
  const fail = (e: SipError): Result<never, ParseError> => err({ ...e, ...context(msg) });
  // one pass over the headers: the lines of each canonical name
  const lines = new Map<string, string[]>();
  for (const h of msg.headers) {
    const n = canonicalName(h.name);
    const list = lines.get(n);
    if (list) list.push(h.value);
    else lines.set(n, [h.value]);
  }
  const values = (name: string): string[] => {
    const l = lines.get(name) ?? [];
    return isListHeader(name) ? l.flatMap(splitList) : l;
  };
  for (const name of SINGLE) {
    if ((lines.get(name)?.length ?? 0) > 1) return fail(badRequest(`multiple ${name} headers`));
  }
  for (const name of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!lines.has(name)) return fail(badRequest(`missing ${displayName(name)} header`));
  }

  const via: Via[] = [];
  for (const v of values('via')) {
    const parsed = parseVia(v);
    if (!parsed.ok) return fail(badRequest(parsed.error));
    if (parsed.value.protocol !== 'SIP/2.0') return fail(badRequest('Via protocol is not SIP/2.0'));
    via.push(parsed.value);
  }
  const from = parseNameAddr(values('from')[0]!);
  if (!from.ok) return fail(badRequest(`From: ${from.error}`));
  const to = parseNameAddr(values('to')[0]!);
  if (!to.ok) return fail(badRequest(`To: ${to.error}`));
  const callId = values('call-id')[0]!;
  if (callId.length === 0 || /\s/.test(callId)) return fail(badRequest('bad Call-ID'));
  const cseq = parseCSeq(values('cseq')[0]!);
  if (!cseq) return fail(badRequest('bad CSeq'));

  let maxForwards: number | undefined;
  const mf = values('max-forwards')[0];
  if (mf !== undefined) {
    maxForwards = parseBoundedInt(mf, 255);
    if (maxForwards === undefined) return fail(badRequest('bad Max-Forwards'));
  }
  const expires = values('expires')[0];
  if (expires !== undefined && parseBoundedInt(expires, 0xffffffff) === undefined) {
    return fail(badRequest('bad Expires'));
  }
  for (const c of values('contact')) {
    if (c === '*') continue;
    const parsed = parseNameAddr(c);
    if (!parsed.ok) return fail(badRequest(`Contact: ${parsed.error}`));
  }

  const base = {
    via,
    from: from.value,
    to: to.value,
    fromTag: tagOf(from.value),
    toTag: tagOf(to.value),
    callId,
    cseq,
    maxForwards,
  };
  if (msg.kind === 'response') return ok({ ...base, msg });

  if (cseq.method !== msg.method) return fail(badRequest('CSeq method does not match the request method'));
  if (msg.uri.includes('<') || msg.uri.includes('>'))
    return fail(badRequest('Request-URI in angle brackets'));
  const ruri = parseUri(msg.uri);
  if (!ruri.ok) return fail(badRequest(`Request-URI: ${ruri.error}`));
  // RFC 3261 19.1.1 (table 1): the headers component is not allowed in a Request-URI (RFC 4475 3.1.2.11)
  if (ruri.value.kind === 'sip' && ruri.value.headers.length > 0)
    return fail(badRequest('headers in Request-URI'));
  return ok({ ...base, msg, ruri: ruri.value });
}

/** CSeq = 1*DIGIT LWS Method; the number is below 2**31 (RFC 3261 8.1.1.5). */
export function parseCSeq(value: string): CSeq | undefined {
  const m = /^([0-9]+)[ \t]+(\S+)$/.exec(value.trim());
  if (!m) return undefined;
  const seq = parseBoundedInt(m[1]!, 0x7fffffff);
  if (seq === undefined || !isToken(m[2]!)) return undefined;
  return { seq, method: m[2]! };
}

function displayName(canonical: string): string {
  return canonical === 'cseq'
    ? 'CSeq'
    : canonical === 'call-id'
      ? 'Call-ID'
      : canonical.replace(/^./, (c) => c.toUpperCase());
}
