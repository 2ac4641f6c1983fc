/**
 * Character classes and small scanners from the RFC 3261 25.1 ABNF. Linear time, no regular expressions
 * that could backtrack on hostile input (the PROTOS suite sends 280 kB headers).
 */

const TOKEN_EXTRA = new Set("-.!%*_+`'~");

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export function isTokenChar(c: string): boolean {
  const code = c.charCodeAt(0);
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    TOKEN_EXTRA.has(c)
  );
}

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTokenChar(s[i]!)) return false;
  return true;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

export const isWs = (c: string | undefined): boolean => c === ' ' || c === '\t';

/**
 * Parses 1*DIGIT into a number no larger than max; leading zeros are allowed ("0068").
 * Returns undefined when not digits or too large (no precision loss on 2**65).
 */
export function parseBoundedInt(s: string, max: number): number | undefined {
  if (!isDigits(s)) return undefined;
  let i = 0;
  while (i < s.length - 1 && s[i] === '0') i++;
  const digits = s.slice(i);
  if (digits.length > 15) return undefined;
  const n = Number(digits);
  return n <= max ? n : undefined;
}

/** A cursor over a header value; every method is total (never throws). */
export class Scanner {
  pos = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string | undefined {
    return this.s[this.pos];
  }
  skipWs(): void {
    while (isWs(this.s[this.pos])) this.pos++;
  }
  /** Consumes c (after optional whitespace, and whitespace after it). */
  eat(c: string): boolean {
    const save = this.pos;
    this.skipWs();
    if (this.s[this.pos] === c) {
      this.pos++;
      this.skipWs();
      return true;
    }
    this.pos = save;
    return false;
  }
  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && isTokenChar(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /** Reads up to (not including) the first char in stop, or the end. */
  until(stop: string): string {
    const start = this.pos;
    while (this.pos < this.s.length && !stop.includes(this.s[this.pos]!)) this.pos++;
    return this.s.slice(start, this.pos);
  }
  /**
   * quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE. Returns the unescaped content, or undefined
   * when unterminated. quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F).
   */
  quoted(): string | undefined {
    if (this.s[this.pos] !== '"') return undefined;
    let out = '';
    let i = this.pos + 1;
    while (i < this.s.length) {
      const c = this.s[i]!;
      if (c === '"') {
        this.pos = i + 1;
        return out;
      }
      if (c === '\\') {
        const next = this.s[i + 1];
        if (next === undefined || next === '\n' || next === '\r') return undefined;
        out += next;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    return undefined;
  }
  rest(): string {
    const r = this.s.slice(this.pos);
    this.pos = this.s.length;
    return r;
  }
}

/** Quotes a string for a quoted-string production when it is not a plain token. */
export function quoteIfNeeded(s: string): string {
  return isToken(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`;
}
