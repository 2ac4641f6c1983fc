import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeUdpPort } from '../helpers/peers.ts';

const root = resolve(import.meta.dirname, '../..');

/** `npm run <args>` in the project; its exit code and output. */
function npmRun(args: string[], env: Record<string, string> = {}, killAfter?: (out: string) => boolean) {
  return new Promise<{ code: number | null; out: string }>((done) => {
    const child = spawn('npm', ['run', '--silent', ...args], { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    const on = (d: Buffer) => {
      out += d;
      if (killAfter?.(out)) child.kill('SIGTERM');
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.on('close', (code) => done({ code, out }));
  });
}

// the README's other commands, as written
describe('the scripts the README names', () => {
  it('npm run bench -- --help lists every case with its duration; an unknown case is an error', async () => {
    const help = await npmRun(['bench', '--', '--help']);
    expect(help.code).toBe(0);
    for (const c of ['sip', 'calls', 'media', 'ws', 'vad', 'ai', 'startup'])
      expect(help.out).toMatch(new RegExp(`^  ${c} +~\\d+ (s|min) `, 'm'));
    const bad = await npmRun(['bench', '--', 'nope']);
    expect([bad.code, bad.out.trim()]).toEqual([
      2,
      'unknown benchmark "nope": one of sip, calls, media, ws, vad, ai, startup (or --help)',
    ]);
  });

  it('npm run dev starts the relay from the TypeScript sources', async () => {
    const r = await npmRun(
      ['dev'],
      { SIP_LOCAL_PORT: String(await freeUdpPort()), WS_PORT: '0', SIP_LOG_FILE: '', GREETING_PATH: 'none' },
      (out) => out.includes('SIP relay listening'),
    );
    expect(r.out).toContain('SIP relay listening');
    expect(r.code).toBe(0);
  });

  it('npm run fuzz (a short run) passes and reports', async () => {
    const r = await npmRun(['fuzz'], { FUZZ_MESSAGES: '400', FUZZ_SEED: '7' });
    expect(r.out).toMatch(/^seed 7: 400 messages in \d+ s$/m);
    expect(r.out.trim().split('\n').at(-1)).toBe('PASS');
    expect(r.code).toBe(0);
  }, 60_000);
});
