import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/io/log.ts';

describe('logging', () => {
  it('writes JSON lines to the log file; child loggers carry the Call-ID; the level is honoured', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'log-')), 'sub', 'sip_server.log');
    const { log, flush } = createLogger({ level: 'info', file, console: false });
    log.child({ callId: 'abc@host' }).info({ status: 200 }, 'answered');
    log.debug('not written at info');
    log.warn('careful');
    await new Promise((r) => setTimeout(r, 50));
    flush();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.msg)).toEqual(['answered', 'careful']);
    expect(lines[0]).toMatchObject({ level: 30, callId: 'abc@host', status: 200 });
  });
});
