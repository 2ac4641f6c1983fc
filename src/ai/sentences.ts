/**
 * Cuts a streamed LLM reply into sentences as the tokens arrive, so speech synthesis can start on the first
 * sentence while the rest is still being generated. A sentence ends at `.`, `!`, `?`, `;` or `:` followed
 * by white space (so "3.14" and "example.com" stay whole), at a CJK full stop (`。！？；`, no space needed),
 * or at a line break. A very long clause is cut at a comma so the caller does not wait for its end.
 */
export class SentenceSplitter {
  #buf = '';
  readonly #maxChars: number;

  constructor(maxChars = 160) {
    this.#maxChars = maxChars;
  }

  /** Adds streamed text; returns the sentences it completed. */
  push(text: string): string[] {
    this.#buf += text;
    const out: string[] = [];
    for (;;) {
      const end = this.#boundary();
      if (end < 0) break;
      const s = this.#buf.slice(0, end).trim();
      this.#buf = this.#buf.slice(end);
      if (s) out.push(s);
    }
    return out;
  }

  /** The rest, once the stream is over. */
  flush(): string[] {
    const s = this.#buf.trim();
    this.#buf = '';
    return s ? [s] : [];
  }

  /** Index just past the first sentence end in the buffer, or -1. */
  #boundary(): number {
    const b = this.#buf;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if ('。！？；\n'.includes(c)) return i + 1;
      if ('.!?;:'.includes(c)) {
        // need the next character to know; at the buffer's end, wait for more text
        if (i + 1 >= b.length) return -1;
        if (/\s/.test(b[i + 1]!)) return i + 1;
      }
      if (i >= this.#maxChars && (c === ',' || c === '，' || c === '、')) return i + 1;
    }
    return -1;
  }
}
