// npm run docs:statecharts: writes docs/statecharts/*.md from the machines (a test fails when they drift).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { statechartDocs } from '../src/machines/statechart-docs.ts';

const dir = join(import.meta.dirname, '../docs/statecharts');
for (const [file, text] of Object.entries(statechartDocs())) {
  writeFileSync(join(dir, file), text);
  console.log(`wrote docs/statecharts/${file}`);
}
