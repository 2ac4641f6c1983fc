import { describe, expect, it } from 'vitest';
import {
  checkJsonShape,
  MAX_JSON_DEPTH,
  MAX_JSON_ITEMS,
  parseBoundedJson,
} from '../../../src/io/json-limits.ts';

describe('JSON shape limits before parsing (depth, items per array or object)', () => {
  it('takes what our messages look like, refuses too deep and too long, and says which', () => {
    expect(checkJsonShape('{"type":"call.dial","number":"+4930","headers":[["a","b"]]}')).toEqual({
      ok: true,
    });
    expect(checkJsonShape(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).toEqual({
      ok: true,
    });
    expect(checkJsonShape(`${'['.repeat(MAX_JSON_DEPTH + 1)}`)).toMatchObject({ ok: false, kind: 'depth' });
    const items = (n: number) => `[${Array.from({ length: n }, () => '1').join(',')}]`;
    expect(checkJsonShape(items(MAX_JSON_ITEMS))).toEqual({ ok: true });
    expect(checkJsonShape(items(MAX_JSON_ITEMS + 1))).toMatchObject({ ok: false, kind: 'items' });
    // many small arrays side by side are fine: the count is per array
    expect(checkJsonShape(`[${Array.from({ length: 500 }, () => items(900)).join(',')}]`)).toEqual({
      ok: true,
    });
    // brackets, commas and escaped quotes inside strings are text, not structure
    expect(checkJsonShape(JSON.stringify({ a: `${'['.repeat(100)}\\"${','.repeat(5000)}` }))).toEqual({
      ok: true,
    });
  });

  it('parses what passes, and tells syntax from shape', () => {
    expect(parseBoundedJson('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(parseBoundedJson('{"a":')).toMatchObject({ ok: false, kind: 'syntax' });
    expect(parseBoundedJson('['.repeat(2_000_000))).toMatchObject({ ok: false, kind: 'depth' });
  });
});
