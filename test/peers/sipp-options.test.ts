import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, hasBinary, run, sippStat } from '../helpers/peers.ts';

const root = resolve(import.meta.dirname, '../..');
const scenario = join(root, 'test/peers/sipp/options.xml');

describe.skipIf(!hasBinary('sipp'))('sipp against the relay started with npm start', () => {
  let relay: ChildProcess;
  let port: number;
  let output = '';
  let exited: Promise<number | null>;
  const work = mkdtempSync(join(tmpdir(), 'sipp-options-'));

  beforeAll(async () => {
    port = await freeUdpPort();
    relay = spawn('npm', ['start', '--silent'], {
      cwd: root,
      env: {
        ...process.env,
        SIP_LOCAL_PORT: String(port),
        WS_PORT: '0',
        SIP_LOG_FILE: join(work, 'relay.log'),
        LOG_LEVEL: 'debug',
        PROCESS_NICE: '5', // raising nice needs no privilege
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((r) => relay.on('exit', (code) => r(code)));
    relay.stdout!.on('data', (d) => (output += d));
    relay.stderr!.on('data', (d) => (output += d));
    const deadline = Date.now() + 20_000;
    while (!output.includes('SIP relay listening') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    if (!output.includes('SIP relay listening')) throw new Error(`relay did not start:\n${output}`);
  });

  afterAll(() => {
    if (relay.exitCode === null) relay.kill('SIGKILL');
  });

  it('five OPTIONS from sipp each get 200 OK with Allow, Accept, Supported and rport', async () => {
    const r = await run(
      'sipp',
      [
        '-sf',
        scenario,
        '-i',
        '127.0.0.1',
        '-p',
        String(await freeUdpPort()),
        '-s',
        'relay',
        '-m',
        '5',
        '-r',
        '10',
        '-recv_timeout',
        '2000',
        '-timeout',
        '20s',
        '-timeout_error',
        '-nostdin',
        '-trace_err',
        '-trace_stat',
        '-fd',
        '1',
        `127.0.0.1:${port}`,
      ],
      { cwd: work, timeoutMs: 30_000 },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(sippStat(work, 'SuccessfulCall(C)')).toBe('5');
    expect(sippStat(work, 'FailedCall(C)')).toBe('0');
    expect(sippStat(work, 'Retransmissions(C)')).toBe('0');
  });

  it.skipIf(process.platform !== 'linux')(
    'PROCESS_NICE applies to the main thread and to the threads started after it (the RTP clock thread)',
    () => {
      // npm runs `exec node ...`: the relay is npm's child; /proc/<pid>/task/<tid>/stat field 19 is nice
      const children = readFileSync(`/proc/${relay.pid}/task/${relay.pid}/children`, 'utf8')
        .trim()
        .split(/\s+/);
      const pid = children.find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'node');
      expect(pid).toBeDefined();
      const nice = (tid: string) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      const threads = readdirSync(`/proc/${pid}/task`);
      expect(nice(pid!)).toBe(5);
      const named = threads.map((t) => [readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim(), nice(t)]);
      // the clock thread is a worker thread (its name starts with "node" in /proc, like V8's own threads):
      // besides the main thread, at least one thread started by the relay carries the value
      expect(named.filter(([, n]) => n === 5).length, JSON.stringify(named)).toBeGreaterThanOrEqual(2);
      expect(output).toContain('process priority set');
    },
  );

  it('SIGTERM stops the relay with exit code 0, and the JSON log file has the session', async () => {
    relay.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = readFileSync(join(work, 'relay.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg?.startsWith('SIP relay listening'))).toBe(true);
    expect(lines.filter((l) => l.method === 'OPTIONS').length).toBeGreaterThanOrEqual(5);
  });
});
