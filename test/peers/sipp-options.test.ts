import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeUdpPort, hasBinary, run, sippStat } from '../helpers/peers.ts';

const root = resolve(import.meta.dirname, '../..');
const scenario = join(root, 'test/peers/sipp/options.xml');

/** npm runs `exec node ...`: the relay is npm's child. */
function relayPid(npmPid: number): string {
  const children = readFileSync(`/proc/${npmPid}/task/${npmPid}/children`, 'utf8').trim().split(/\s+/);
  const pid = children.find((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'node');
  if (!pid) throw new Error(`no node child of npm (${children.join(' ')})`);
  return pid;
}

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
        REALTIME_PRIORITY: '3',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((r) => relay.on('exit', (code) => r(code)));
    relay.stdout!.on('data', (d) => (output += d));
    relay.stderr!.on('data', (d) => (output += d));
    const deadline = performance.now() + 20_000;
    while (!output.includes('SIP relay listening') && performance.now() < deadline)
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
    'PROCESS_NICE applies to the main thread and to the RTP clock thread',
    () => {
      // /proc/<pid>/task/<tid>/stat field 19 is nice
      const pid = relayPid(relay.pid!);
      const nice = (tid: string) => {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
      };
      const threads = readdirSync(`/proc/${pid}/task`);
      expect(nice(pid!)).toBe(5);
      const named = threads.map((t) => [readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim(), nice(t)]);
      // the clock thread is a worker thread (its name starts with "node" in /proc, like V8's own threads):
      // besides the main thread, at least one thread started by the relay carries the value (exactly one
      // when REALTIME_PRIORITY took: later threads are then reset to nice 0)
      expect(named.filter(([, n]) => n === 5).length, JSON.stringify(named)).toBeGreaterThanOrEqual(2);
      expect(output).toContain('process priority set');
    },
  );

  it.skipIf(process.platform !== 'linux')(
    'REALTIME_PRIORITY puts exactly the main thread and the RTP clock thread in SCHED_RR (or warns without privilege)',
    async () => {
      const pid = relayPid(relay.pid!);
      // the clock thread sets its priority when it has started: wait for the log line
      const said = /RTP clock thread runs real-time|could not give the RTP clock thread/;
      for (let i = 0; i < 100 && !said.test(output); i++) await new Promise((r) => setTimeout(r, 50));
      // /proc/<pid>/task/<tid>/stat fields 40 and 41: rt_priority and policy (2 = SCHED_RR)
      const sched = (tid: string) => {
        const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
        return { tid, priority: Number(fields[37]), policy: Number(fields[38]) };
      };
      const all = readdirSync(`/proc/${pid}/task`).map(sched);
      if (process.getuid?.() !== 0) {
        expect(output).toContain('could not set real-time priority');
        expect(all.every((t) => t.policy === 0)).toBe(true);
        return;
      }
      const rr = all.filter((t) => t.policy === 2);
      expect(output).toContain('main thread runs real-time');
      expect(output).toContain('RTP clock thread runs real-time');
      // threads started afterwards (V8's, libuv's, the worker's own) stay normal: reset-on-fork
      expect(rr.length, JSON.stringify(all)).toBe(2);
      expect(rr.map((t) => t.tid)).toContain(pid);
      expect(rr.every((t) => t.priority === 3)).toBe(true);
    },
  );

  it("the README's sipp commands (quick start, first call) succeed as written, on this relay's port", async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const commands = [...readme.matchAll(/^sipp .*$/gm)].map((m) => m[0].replace(/\s+#.*$/, ''));
    expect(commands.length).toBeGreaterThanOrEqual(2);
    for (const cmd of commands) {
      const mine = cmd
        .replace('127.0.0.1:5062', `127.0.0.1:${port}`)
        .replace(/-p \d+/, `-p ${await freeUdpPort()}`);
      const r = await run('sh', ['-c', mine], { cwd: root, timeoutMs: 20_000 });
      expect(r.code, `${mine}\n${r.stdout.slice(-1000)}`).toBe(0);
    }
  });

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
