/**
 * JSON from strangers (REST bodies, /v1 WebSocket commands, bots, webhook replies) is checked for its shape
 * before JSON.parse and the schemas see it: a 2,000,000-deep array blocked the event loop 1.6 s in
 * JSON.parse, and a 1,000,000-item array 3.6 s in zod (and overflowed its stack). One linear pass over the
 * text, strings skipped, bounds nesting and the items of any one array or object; what passes parses in
 * time proportional to its size, and no schema meets more than MAX_JSON_ITEMS items in one place.
 */

/** Deepest nesting of arrays and objects taken; every message we accept nests at most 4 levels. */
export const MAX_JSON_DEPTH = 32;
/** Most items in one array or keys in one object (an agent's tools, a list of headers: tens at most). */
export const MAX_JSON_ITEMS = 1000;

/** Why JSON was refused: too deep or too many items (its shape), or not JSON at all. */
export type JsonRefusal = {
  readonly ok: false;
  readonly kind: 'depth' | 'items' | 'syntax';
  readonly message: string;
};

export type JsonCheck = { readonly ok: true } | JsonRefusal;

/** Whether `text` stays within the depth and item bounds (it may still not be valid JSON). */
export function checkJsonShape(
  text: string,
  maxDepth = MAX_JSON_DEPTH,
  maxItems = MAX_JSON_ITEMS,
): JsonCheck {
  const counts = new Int32Array(maxDepth + 2);
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote, over escapes
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > maxDepth)
        return { ok: false, kind: 'depth', message: `JSON nested deeper than ${maxDepth} levels` };
      counts[depth] = 0;
    } else if (c === 0x5d || c === 0x7d) {
      if (depth > 0) depth--;
    } else if (c === 0x2c && depth > 0) {
      if (++counts[depth]! >= maxItems)
        return {
          ok: false,
          kind: 'items',
          message: `JSON with more than ${maxItems} items in one array or object`,
        };
    }
  }
  return { ok: true };
}

/** JSON.parse behind checkJsonShape: the value, or why it was refused (shape or syntax). */
export function parseBoundedJson(text: string): { readonly ok: true; readonly value: unknown } | JsonRefusal {
  const shape = checkJsonShape(text);
  if (!shape.ok) return shape;
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, kind: 'syntax', message: 'not valid JSON' };
  }
}
