import { isTokenChar, type Scanner } from './grammar.ts';

/** generic-param list; values are kept as written (a quoted-string keeps its quotes), null = no value. */
export type Params = ReadonlyArray<readonly [string, string | null]>;

const isValueChar = (c: string): boolean => isTokenChar(c) || c === ':' || c === '[' || c === ']';

/**
 * *( SEMI generic-param ), generic-param = token [ EQUAL gen-value ], gen-value = token / host / quoted-string.
 * Stops before a ',' (the caller splits lists). Returns an error text for empty names or stray characters.
 */
export function parseParams(sc: Scanner): Params | string {
  const out: [string, string | null][] = [];
  for (;;) {
    sc.skipWs();
    if (sc.done || sc.peek() === ',') return out;
    if (!sc.eat(';')) return `unexpected character '${sc.peek()}' before parameters`;
    const name = sc.token();
    if (name.length === 0) return 'empty parameter';
    if (!sc.eat('=')) {
      out.push([name, null]);
      continue;
    }
    let value: string;
    if (sc.peek() === '"') {
      const start = sc.pos;
      if (sc.quoted() === undefined) return `unterminated quoted string in parameter ${name}`;
      value = sc.s.slice(start, sc.pos);
    } else {
      const start = sc.pos;
      while (!sc.done && isValueChar(sc.peek()!)) sc.pos++;
      value = sc.s.slice(start, sc.pos);
      if (value.length === 0) return `empty value for parameter ${name}`;
    }
    out.push([name, value]);
  }
}

/** A parameter by case-insensitive name: undefined when absent, null when present without a value. */
export function param(params: Params, name: string): string | null | undefined {
  const lower = name.toLowerCase();
  for (const [n, v] of params) if (n.toLowerCase() === lower) return v === null ? null : unquote(v);
  return undefined;
}

export function unquote(v: string): string {
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, '$1');
  return v;
}

export function serializeParams(params: Params): string {
  let s = '';
  for (const [n, v] of params) s += v === null ? `;${n}` : `;${n}=${v}`;
  return s;
}

/** Returns params with name set to value (replaced in place when present, appended otherwise). */
export function withParam(params: Params, name: string, value: string | null): Params {
  const lower = name.toLowerCase();
  let found = false;
  const out = params.map(([n, v]): readonly [string, string | null] => {
    if (n.toLowerCase() !== lower) return [n, v];
    found = true;
    return [n, value];
  });
  if (!found) out.push([name, value]);
  return out;
}
