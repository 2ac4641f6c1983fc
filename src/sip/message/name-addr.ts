import { err, ok, type Result } from '../../kernel/result.ts';
import { quoteIfNeeded, Scanner } from './grammar.ts';
import { type Params, param, parseParams, serializeParams } from './params.ts';
import { parseUri, serializeUri, type Uri } from './uri.ts';

/**
 * From, To, Contact, Route, Record-Route, Reply-To values (RFC 3261 20.10, 25.1):
 *   ( name-addr / addr-spec ) *( SEMI param );  name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 */
export interface NameAddr {
  readonly displayName?: string;
  readonly uri: Uri;
  /** Whether the URI was written in angle brackets. */
  readonly bracketed: boolean;
  readonly params: Params;
}

export function parseNameAddr(value: string): Result<NameAddr, string> {
  const sc = new Scanner(value);
  sc.skipWs();
  let displayName: string | undefined;
  let bracketed = false;
  let uriText: string;
  if (sc.peek() === '"') {
    const q = sc.quoted();
    if (q === undefined) return err('unterminated quoted display name');
    displayName = q;
    sc.skipWs();
    if (sc.peek() !== '<') return err('quoted display name without <URI>');
  } else {
    const start = sc.pos;
    const words: string[] = [];
    for (;;) {
      const t = sc.token();
      if (t.length === 0) break;
      words.push(t);
      sc.skipWs();
    }
    if (sc.peek() === '<') {
      if (words.length > 0) displayName = words.join(' ');
    } else {
      if (words.length > 0 && value.includes('<'))
        return err('display name is neither tokens nor a quoted string');
      sc.pos = start;
    }
  }
  if (sc.peek() === '<') {
    sc.pos++;
    uriText = sc.until('>');
    if (sc.done) return err('missing > after URI');
    sc.pos++;
    bracketed = true;
  } else {
    uriText = sc.until(' \t;');
    // RFC 3261 20: a URI containing a comma, question mark or semicolon MUST be in angle brackets
    if (uriText.includes('?') || uriText.includes(',')) return err('URI with ? or , outside <>');
  }
  const uri = parseUri(uriText);
  if (!uri.ok) return err(uri.error);
  const params = parseParams(sc);
  if (typeof params === 'string') return err(params);
  if (!sc.done) return err('unexpected text after parameters');
  return ok({ uri: uri.value, bracketed, params, ...(displayName !== undefined ? { displayName } : {}) });
}

export function serializeNameAddr(na: NameAddr): string {
  const uri = serializeUri(na.uri);
  const dn = na.displayName !== undefined ? `${quoteIfNeeded(na.displayName)} ` : '';
  const body = na.bracketed || dn ? `${dn}<${uri}>` : uri;
  return body + serializeParams(na.params);
}

export const tagOf = (na: NameAddr): string | undefined => {
  const t = param(na.params, 'tag');
  return t === null ? undefined : t;
};
