import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

/**
 * The relay as `npm run dev` runs it (src/main.ts through tsx), in a child process with `env` on top of this
 * process's environment, logging to a file: a pipe nobody drains (sipp under spawnSync blocks this process)
 * fills up and stalls the relay. Resolves once the log says it listens; `stop()` sends SIGTERM and waits.
 */
export async function startRelayChild(
  env: Record<string, string>,
  name = 'bench-relay',
): Promise<{ child: ChildProcess; log: string; stop(): Promise<void> }> {
  const log = join(mkdtempSync(join(tmpdir(), `${name}-`)), 'relay.log');
  const out = openSync(log, 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, WS_PORT: '0', SIP_LOG_FILE: '', GREETING_PATH: 'none', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const stop = async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));
  };
  const end = Date.now() + 20_000;
  // 'SIP relay listening' is an info line; nothing is logged per request at info
  while (!readFileSync(log, 'utf8').includes('SIP relay listening')) {
    if (Date.now() > end || child.exitCode !== null) {
      await stop();
      throw new Error(`the relay did not start:\n${readFileSync(log, 'utf8')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, log, stop };
}
