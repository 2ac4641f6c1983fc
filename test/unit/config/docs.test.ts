import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../../src/config/index.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const pages = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

describe('the documentation', () => {
  it('docs/configuration.md documents every setting of the schema, in its table', () => {
    const doc = read('docs/configuration.md');
    const table = doc.slice(doc.indexOf('| key'));
    const missing = Object.keys(configSchema.shape).filter((k) => !table.includes(`\`${k}\``));
    expect(missing).toEqual([]);
  });

  it('.env.example names every setting of the schema', () => {
    const example = read('.env.example');
    const missing = Object.keys(configSchema.shape).filter(
      (k) => !new RegExp(`^#?\\s*${k}=`, 'm').test(example),
    );
    expect(missing).toEqual([]);
  });

  it('every relative link in README.md and docs/ resolves to a file or folder of the repository', () => {
    const broken: string[] = [];
    for (const page of pages) {
      // links outside code: fenced blocks and inline code are not links
      const text = read(page)
        .replace(/```[\s\S]*?```/g, '')
        .replace(/`[^`\n]*`/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split('#')[0]!;
        if (!target || /^[a-z]+:/i.test(target)) continue;
        if (!existsSync(resolve(ROOT, dirname(page), target))) broken.push(`${page}: ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('README.md is the first hour: short, with the two commands, the test command and a way on to each page', () => {
    const readme = read('README.md');
    expect(readme.length).toBeLessThan(20_000);
    for (const cmd of ['npm install', 'npm start', 'npm test']) expect(readme).toContain(cmd);
    for (const page of pages.filter((p) => p !== 'README.md')) expect(readme, page).toContain(`](${page})`);
  });
});
