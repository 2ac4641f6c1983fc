import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of docs/architecture.md, as a test: which folder of src/ may import which. The pure layers
 * (SIP, SDP, RTP, media) do no I/O and know nothing of the relay around them; policy (routing, config, AI)
 * does not reach into the sockets; and nothing imports in a circle.
 */
const SRC = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every import of a file (static, re-export and dynamic), as written, type-only ones included. */
function importsOf(source: string): string[] {
  const out: string[] = [];
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of text.matchAll(/(?:^|[;\s])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]/g))
    out.push(m[1]!);
  for (const m of text.matchAll(/(?:^|[;\s])import\s*['"]([^'"]+)['"]/g)) out.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out;
}

/** The layer of a file: its first folder under src/ ('' for the files at the top: main, relay). */
const layerOf = (file: string): string => {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0]! : '';
};

const graph = new Map<string, { local: string[]; packages: string[] }>();
for (const file of files(SRC)) {
  const local: string[] = [];
  const packages: string[] = [];
  for (const spec of importsOf(readFileSync(file, 'utf8'))) {
    if (spec.startsWith('.')) local.push(resolve(dirname(file), spec));
    else packages.push(spec);
  }
  graph.set(file, { local, packages });
}

const PURE = ['sip', 'sdp', 'rtp', 'media'];
/** What computation (not I/O) the pure layers may take from Node. */
const PURE_NODE = new Set(['node:crypto', 'node:buffer']);
/** Which layers each layer must not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  sip: ['io', 'machines', 'ai', 'config', 'routing', ''],
  sdp: ['io', 'machines', 'ai', 'config', 'routing', ''],
  rtp: ['io', 'machines', 'ai', 'config', 'routing', ''],
  media: ['io', 'machines', 'ai', 'config', 'routing', ''],
  kernel: ['io', 'machines', 'ai', 'config', 'routing', 'sip', 'sdp', 'rtp', 'media', ''],
  ai: ['io', ''],
  config: ['io', 'ai', 'machines', ''],
  routing: ['io', 'ai', 'machines', 'config', ''],
  machines: ['io', ''],
};

describe('import rules (docs/architecture.md)', () => {
  it('finds the source tree', () => {
    expect(graph.size).toBeGreaterThan(100);
  });

  it('no layer imports one it must not', () => {
    const wrong: string[] = [];
    for (const [file, { local }] of graph) {
      const banned = FORBIDDEN[layerOf(file)] ?? [];
      for (const target of local)
        if (banned.includes(layerOf(target)))
          wrong.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the pure layers (sip, sdp, rtp, media) take nothing from Node but computation', () => {
    const wrong: string[] = [];
    for (const [file, { packages }] of graph) {
      if (!PURE.includes(layerOf(file))) continue;
      for (const p of packages)
        if (p.startsWith('node:') ? !PURE_NODE.has(p) : false) wrong.push(`${relative(SRC, file)} -> ${p}`);
    }
    expect(wrong).toEqual([]);
  });

  it('nothing imports in a circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file)?.local ?? []) {
        if (!graph.has(next)) continue;
        const s = state.get(next);
        if (s === 'open')
          cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => relative(SRC, f)).join(' -> '));
        else if (s === undefined) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('every relative import names a file that exists', () => {
    const missing: string[] = [];
    for (const [file, { local }] of graph)
      for (const target of local)
        if (!graph.has(target) && !target.endsWith('.d.ts'))
          missing.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    expect(missing).toEqual([]);
  });
});
