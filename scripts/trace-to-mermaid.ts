// Usage: npx tsx scripts/trace-to-mermaid.ts CALL_TRACE_DIR/<file>.jsonl > call.md
// Prints a mermaid sequence diagram (in a ```mermaid block) of one call's trace.
import { readFileSync } from 'node:fs';
import { traceToMermaid } from '../src/machines/trace-diagram.ts';

const file = process.argv[2];
if (!file) {
  console.error('usage: npx tsx scripts/trace-to-mermaid.ts <trace.jsonl>');
  process.exit(1);
}
process.stdout.write(`\`\`\`mermaid\n${traceToMermaid(readFileSync(file, 'utf8'))}\`\`\`\n`);
