import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeUdpPort } from '../helpers/peers.ts';
import { Phone } from '../helpers/phone.ts';
import { startTestRelay } from '../helpers/relay.ts';

const root = resolve(import.meta.dirname, '../..');

/** `npm run <args>` in the project; its exit code and output. */
function npmRun(args: string[], env: Record<string, string> = {}, killAfter?: (out: string) => boolean) {
  return new Promise<{ code: number | null; out: string }>((done) => {
    const child = spawn('npm', ['run', '--silent', ...args], { cwd: root, env: { ...process.env, ...env } });
    let out = '';
    let killing = false;
    const on = (d: Buffer) => {
      out += d;
      // npm wires its signal forwarding a moment after spawning the script: a SIGTERM in that moment
      // kills npm alone (seen 1 in 6 right at "listening"), so give it half a second
      if (!killing && killAfter?.(out)) {
        killing = true;
        setTimeout(() => child.kill('SIGTERM'), 500);
      }
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
    for (const c of ['sip', 'transports', 'flood', 'calls', 'media', 'ws', 'vad', 'srtp', 'ai', 'startup'])
      expect(help.out).toMatch(new RegExp(`^  ${c} +~\\d+ (s|min) `, 'm'));
    const bad = await npmRun(['bench', '--', 'nope']);
    expect([bad.code, bad.out.trim()]).toEqual([
      2,
      'unknown benchmark "nope": one of sip, transports, flood, calls, media, ws, vad, srtp, ai, startup (or --help)',
    ]);
  });

  it('npm run dev starts the relay from the TypeScript sources', async () => {
    const r = await npmRun(
      ['dev'],
      { SIP_LOCAL_PORT: String(await freeUdpPort()), WS_PORT: '0', SIP_LOG_FILE: '', GREETING_PATH: 'none' },
      (out) => out.includes('SIP relay listening'),
    );
    expect(r.out).toContain('SIP relay listening');
    // stopped by the SIGTERM (npm's own exit status is npm's business: it may die of the signal itself);
    // 'close' came, so the relay under it has exited too
    expect(r.out).toContain('shutting down');
  });

  it('npm run fuzz (a short run) passes and reports', async () => {
    const r = await npmRun(['fuzz'], { FUZZ_MESSAGES: '400', FUZZ_SEED: '7' });
    expect(r.out).toMatch(/^seed 7: 400 messages in \d+ s$/m);
    expect(r.out.trim().split('\n').at(-1)).toBe('PASS');
    expect(r.code).toBe(0);
  }, 60_000);

  it('npx tsx scripts/trace-to-mermaid.ts turns a call trace (CALL_TRACE_DIR) into a sequence diagram', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'traces-'));
    const relay = await startTestRelay({ CALL_TRACE_DIR: dir });
    const phone = await Phone.call(relay.sip.port);
    await phone.hangup();
    await relay.close();
    const file = join(dir, readdirSync(dir)[0]!);
    const r = await new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn('npx', ['tsx', 'scripts/trace-to-mermaid.ts', file], { cwd: root });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.on('close', (code) => done({ code, out }));
    });
    expect(r.code).toBe(0);
    expect(r.out).toContain('sequenceDiagram');
    expect(r.out).toContain('sip.invite');
  });
});
