import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startTestRelay } from '../helpers/relay.ts';

const root = resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;

/**
 * Runs setThreadPriority on a fresh node process's main thread, then starts a worker thread and a child
 * process and reports every thread's scheduling from /proc (fields 19, 40, 41: nice, rt_priority, policy).
 */
function probe(call: string, uid?: number) {
  const code = `
    import { spawnSync } from 'node:child_process';
    import { readFileSync } from 'node:fs';
    import { Worker } from 'node:worker_threads';
    import { setThreadPriority } from './src/io/media/priority.ts';
    const parse = (f) => {
      const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return { nice: Number(x[16]), priority: Number(x[37]), policy: Number(x[38]) };
    };
    const failed = ${call.startsWith('(') ? call : `setThreadPriority(process.pid, ${call})`};
    const main = parse(readFileSync('/proc/self/task/' + process.pid + '/stat', 'utf8'));
    const w = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8'))", { eval: true, execArgv: [] });
    const worker = await new Promise((r) => w.once('message', r));
    await w.terminate();
    const child = spawnSync('cat', ['/proc/self/stat'], { encoding: 'utf8' }).stdout;
    console.log(JSON.stringify({ failed, main, worker: parse(worker), child: parse(child) }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: root,
    encoding: 'utf8',
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
    failed: { nice?: string; realtime?: string };
    main: { nice: number; priority: number; policy: number };
    worker: { nice: number; priority: number; policy: number };
    child: { nice: number; priority: number; policy: number };
  };
}

describe.skipIf(process.platform !== 'linux')('thread priority (PROCESS_NICE, REALTIME_PRIORITY)', () => {
  it.skipIf(!isRoot)(
    'real-time: only the thread given runs SCHED_RR; threads and processes started later do not',
    () => {
      const r = probe('{ realtime: 4 }');
      expect(r.failed).toEqual({});
      expect(r.main).toMatchObject({ policy: 2, priority: 4 });
      expect(r.worker).toMatchObject({ policy: 0, priority: 0 });
      expect(r.child).toMatchObject({ policy: 0, priority: 0 });
    },
  );

  it.skipIf(!isRoot)(
    'real-time 0 puts the thread back in the normal class (what the relay does on close)',
    () => {
      const r = probe(
        '(setThreadPriority(process.pid, { realtime: 4 }), setThreadPriority(process.pid, { realtime: 0 }))',
      );
      expect(r.failed).toEqual({});
      expect(r.main).toMatchObject({ policy: 0, priority: 0 });
    },
  );

  it.skipIf(!isRoot)(
    'the relay runs its thread real-time while open and gives it back on close()',
    async () => {
      const self = () => {
        const f = readFileSync('/proc/thread-self/stat', 'utf8');
        const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
        return { priority: Number(x[37]), policy: Number(x[38]) };
      };
      const relay = await startTestRelay({ REALTIME_PRIORITY: '2' });
      try {
        expect(self()).toEqual({ priority: 2, policy: 2 });
      } finally {
        await relay.close();
      }
      expect(self()).toEqual({ priority: 0, policy: 0 });
    },
  );

  it('nice: the thread given carries it, and threads started later inherit it', () => {
    const r = probe('{ nice: 6 }');
    expect(r.failed).toEqual({});
    expect(r.main.nice).toBe(6);
    expect(r.worker.nice).toBe(6);
  });

  it.skipIf(!isRoot)('without the privilege: says why, and the thread stays as it was', () => {
    // run as "nobody": real-time needs root or CAP_SYS_NICE, and so does a nice below 0
    const r = probe('{ nice: -5, realtime: 4 }', 65534);
    expect(r.failed.realtime).toMatch(/not permitted/i);
    expect(r.failed.nice).toBeTruthy();
    expect(r.main).toMatchObject({ policy: 0, priority: 0, nice: 0 });
  });
});
