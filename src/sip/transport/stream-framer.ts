/**
 * Cuts a byte stream (SIP over TCP or TLS) into messages. RFC 3261 18.3: "In the case of stream-oriented
 * transports such as TCP, the Content-Length header field indicates the size of the body. All messages sent
 * over stream-oriented transports MUST contain a Content-Length header field." A message without one, with
 * a bad one, or larger than the limit cannot be delimited: the framer reports it once and takes nothing
 * more (the connection answers and closes). RFC 5626 3.5.1 keep-alives between messages: a double CRLF
 * is a ping (answer a single CRLF, the pong); a single CRLF is a pong and is skipped.
 * Pure: bytes in, frames out; it holds at most `maxMessageBytes` of one unfinished message.
 */
export type Frame =
  | { readonly type: 'message'; readonly data: Uint8Array }
  | { readonly type: 'ping' }
  | {
      readonly type: 'error';
      /** 400 (no or bad Content-Length) or 513 (Message Too Large). */
      readonly status: 400 | 513;
      readonly reason: string;
      /** The message head as far as it came (to build the response from), possibly empty. */
      readonly head: Uint8Array;
    };

const CR = 0x0d;
const LF = 0x0a;

/** Our largest SIP message on any transport (the UDP maximum; a header section alone may not exceed it). */
export const MAX_STREAM_MESSAGE = 65_535;

export class StreamFramer {
  readonly #max: number;
  #buf: Uint8Array = new Uint8Array(0);
  #failed = false;

  constructor(maxMessageBytes = MAX_STREAM_MESSAGE) {
    this.#max = maxMessageBytes;
  }

  /** Bytes held for an unfinished message. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** True once a message could not be delimited: nothing more is read from this stream. */
  get failed(): boolean {
    return this.#failed;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.#failed) return [];
    const out: Frame[] = [];
    let buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    for (;;) {
      // keep-alives and stray line ends between messages
      let i = 0;
      while (i + 1 < buf.length && buf[i] === CR && buf[i + 1] === LF) {
        if (i + 3 < buf.length && buf[i + 2] === CR && buf[i + 3] === LF) {
          out.push({ type: 'ping' });
          i += 4;
        } else if (i + 2 === buf.length || (i + 3 === buf.length && buf[i + 2] === CR)) {
          break; // maybe the start of a ping: wait for the rest
        } else i += 2;
      }
      while (i < buf.length && buf[i] === LF) i++; // a bare LF between messages (RFC 3261 7.5 tolerance)
      buf = buf.subarray(i);
      if (buf.length === 0 || (buf[0] === CR && buf.length <= 3)) break;
      const headEnd = endOfHead(buf);
      if (headEnd === -1) {
        if (buf.length > this.#max) return this.#fail(out, 513, 'Message Too Large (header section)', buf);
        break;
      }
      const head = buf.subarray(0, headEnd.head);
      const length = contentLength(head);
      if (typeof length === 'string') return this.#fail(out, 400, length, head);
      if (headEnd.body + length > this.#max) return this.#fail(out, 513, 'Message Too Large', head);
      if (buf.length < headEnd.body + length) break;
      out.push({ type: 'message', data: buf.slice(0, headEnd.body + length) });
      buf = buf.subarray(headEnd.body + length);
    }
    // keep only what is unfinished, in a buffer of its own (never a view into a large chunk)
    this.#buf = buf.length === 0 ? new Uint8Array(0) : buf.slice();
    return out;
  }

  #fail(out: Frame[], status: 400 | 513, reason: string, head: Uint8Array): Frame[] {
    this.#failed = true;
    this.#buf = new Uint8Array(0);
    out.push({ type: 'error', status, reason, head: head.slice(0, Math.min(head.length, this.#max)) });
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Where the head's empty line is: the head's end (without it) and the body's start; -1 when not yet. */
function endOfHead(buf: Uint8Array): { head: number; body: number } | -1 {
  for (let i = buf.indexOf(LF); i !== -1; i = buf.indexOf(LF, i + 1)) {
    // an empty line: LF followed by CRLF or LF
    if (buf[i + 1] === LF) return { head: i + 1, body: i + 2 };
    if (buf[i + 1] === CR && buf[i + 2] === LF) return { head: i + 1, body: i + 3 };
    if (i + 2 >= buf.length) return -1;
  }
  return -1;
}

const decoder = new TextDecoder();

/** The Content-Length of a head (long or compact form `l`), or why the message cannot be delimited. */
function contentLength(head: Uint8Array): number | string {
  let found: number | undefined;
  for (const raw of decoder.decode(head).split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    const value = line.slice(colon + 1).trim();
    if (!/^\d{1,10}$/.test(value)) return 'Bad Request (bad Content-Length)';
    const n = Number(value);
    if (found !== undefined && found !== n) return 'Bad Request (conflicting Content-Length headers)';
    found = n;
  }
  return found ?? 'Bad Request (Content-Length is required on a stream: RFC 3261 18.3)';
}
