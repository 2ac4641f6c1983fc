import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ROUTES_FILE_MAX_ALIASES,
  ROUTES_FILE_MAX_BYTES,
  readRoutesFile,
  readRoutesFileOffLoop,
} from '../../src/config/routes-file.ts';
import { until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

const ctx = { provider: 'echo', openAiKey: false, callWebhookUrl: false } as const;
const routes = (names: string[]) =>
  `routes:\n${names.map((n, i) => `  - name: ${n}\n    to: "+4930${String(i).padStart(6, '0')}"\n    clients: { answer: true }\n`).join('')}`;

/** A valid routes file just under the size cap (about 15,000 routes). */
function bigRoutes(): string {
  const parts = ['routes:\n'];
  let size = parts[0]!.length;
  for (let i = 0; ; i++) {
    const r = `  - name: r${i}\n    to: "+4930${String(i).padStart(6, '0')}"\n    clients: { answer: true }\n`;
    if (size + r.length > ROUTES_FILE_MAX_BYTES) return parts.join('');
    parts.push(r);
    size += r.length;
  }
}

describe('ROUTES_FILE: bounded, parsed off the event loop, followed through symlinks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'routes-reload-'));

  it('a file over the size cap, or with too many aliases, is refused with what is wrong, before it is parsed', () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(ROUTES_FILE_MAX_BYTES)}\nroutes: []\n`);
    expect(readRoutesFile(big, ctx)).toEqual({
      ok: false,
      problems: [expect.stringMatching(/is \d+ bytes; at most 1048576 are read/)],
    });
    const aliases = join(dir, 'aliases.yaml');
    writeFileSync(
      aliases,
      `x: &a [1]\nroutes:\n  - to: "+4930*"\n    clients: {}\nz:\n${'  - *a\n'.repeat(ROUTES_FILE_MAX_ALIASES + 1)}`,
    );
    expect(readRoutesFile(aliases, ctx)).toEqual({
      ok: false,
      problems: [expect.stringMatching(/has 101 YAML aliases; at most 100/)],
    });
  });

  it('a reload parses the YAML in a worker: the event loop keeps running (a file at the cap takes seconds inline)', async () => {
    const path = join(dir, 'reload.yaml');
    writeFileSync(path, routes(['first']));
    const text = bigRoutes();
    const bigPath = join(dir, 'big-valid.yaml');
    writeFileSync(bigPath, text);
    let t = performance.now();
    const inline = readRoutesFile(bigPath, ctx);
    const inlineMs = performance.now() - t;
    expect(inline.ok).toBe(true);
    let maxGap = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    t = performance.now();
    const off = await readRoutesFileOffLoop(bigPath, ctx);
    clearInterval(tick);
    expect(off).toEqual(inline);
    // the main thread only validated: its longest stall is a small part of the inline parse
    expect(maxGap, `inline ${Math.round(inlineMs)} ms, longest stall ${Math.round(maxGap)} ms`).toBeLessThan(
      inlineMs / 3,
    );
  }, 60_000);

  it('a ConfigMap-style symlink swap (..data re-pointed) reloads the routes', async () => {
    const cm = join(dir, 'configmap');
    mkdirSync(join(cm, '..2026_12_07_1'), { recursive: true });
    writeFileSync(join(cm, '..2026_12_07_1', 'routes.yaml'), routes(['before']));
    symlinkSync('..2026_12_07_1', join(cm, '..data'));
    symlinkSync('..data/routes.yaml', join(cm, 'routes.yaml'));
    const relay = await startTestRelay({
      ROUTES_FILE: join(cm, 'routes.yaml'),
      RTP_PORT_START: '45300',
      RTP_PORT_END: '45349',
    });
    try {
      expect(relay.router.table.file.routes[0]?.name).toBe('before');
      await new Promise((r) => setTimeout(r, 300));
      // what the kubelet does: a new folder, a new link to it, renamed over ..data
      mkdirSync(join(cm, '..2026_12_07_2'));
      writeFileSync(join(cm, '..2026_12_07_2', 'routes.yaml'), routes(['after']));
      symlinkSync('..2026_12_07_2', join(cm, '..data_tmp'));
      renameSync(join(cm, '..data_tmp'), join(cm, '..data'));
      await until(() => relay.router.reloads.ok === 1, 5000);
      expect(relay.router.table.file.routes[0]?.name).toBe('after');
      // and again: the folder it now resolves to is watched too
      writeFileSync(join(cm, '..2026_12_07_2', 'routes.yaml'), routes(['edited']));
      await until(() => relay.router.reloads.ok === 2, 5000);
      expect(relay.router.table.file.routes[0]?.name).toBe('edited');
    } finally {
      await relay.close();
    }
  });
});
