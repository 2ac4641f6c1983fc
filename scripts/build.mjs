// The relay's build: src/*.ts -> dist/*.js (tsc, source maps). Plain JavaScript, so production needs no
// TypeScript loader (`npm ci --omit=dev` has none).
//   node scripts/build.mjs           build (npm run build)
//   node scripts/build.mjs --prepare npm install / npm ci: build when TypeScript is installed; without dev
//                                    dependencies, a dist/ built earlier is used as it is
//   node scripts/build.mjs --stale   npm start: rebuild only when a source file is newer than dist/
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const entry = join(root, 'dist', 'main.js');
const mode = process.argv[2];

function hasTypeScript() {
  try {
    createRequire(join(root, 'package.json')).resolve('typescript/package.json');
    return true;
  } catch {
    return false;
  }
}

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function build() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error('build failed (tsc -p tsconfig.build.json)');
    process.exit(1);
  }
}

if (!hasTypeScript()) {
  if (mode === '--prepare' || mode === '--stale') {
    if (existsSync(entry)) process.exit(0);
    console.error(
      'dist/ is missing and TypeScript is not installed: run `npm install` then `npm run build` ' +
        '(or build the image) before `npm ci --omit=dev`',
    );
    process.exit(mode === '--prepare' ? 0 : 1); // an install without dev dependencies still succeeds
  }
  console.error('TypeScript is not installed: run `npm install` first');
  process.exit(1);
}
if (mode === '--stale' && existsSync(entry) && statSync(entry).mtimeMs >= newestSource(join(root, 'src')))
  process.exit(0);
build();
