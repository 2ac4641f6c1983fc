import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Start-up of the built relay (`node dist/main.js`, what `npm start` runs) against the TypeScript loader
 * it used to need (`node --import tsx src/main.ts`, `npm run dev`), measured in the same run: time from
 * spawn to "SIP relay listening" and the resident memory 2 s later, median of BENCH_STARTS (default 5).
 */
const root = join(import.meta.dirname, '..');
const runs = Number(process.env.BENCH_STARTS ?? 5);

async function once(args: string[]): Promise<{ ms: number; rssMb: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=4', ...args], {
    cwd: root,
    env: { ...process.env, SIP_LOCAL_PORT: '0', WS_PORT: '0', SIP_LOG_FILE: '', RECORDING: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ms = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no start in:\n${out}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('SIP relay listening')) {
        clearTimeout(t);
        resolve(performance.now() - t0);
      }
    });
  });
  await new Promise((r) => setTimeout(r, 2000));
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
  child.kill('SIGTERM');
  await new Promise((r) => child.on('exit', r));
  return { ms, rssMb: rss / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runStartupBench(): Promise<void> {
  spawnSync(process.execPath, ['scripts/build.mjs', '--stale'], { cwd: root, stdio: 'inherit' });
  console.log(`\nStart-up (median of ${runs}: spawn to "SIP relay listening"; resident memory 2 s later)`);
  console.log('  start                                  ms    RSS MB');
  const rows: Array<[string, string[]]> = [
    ['built: node dist/main.js', ['--enable-source-maps', 'dist/main.js']],
    ['tsx:   node --import tsx src/main.ts', ['--import', 'tsx', 'src/main.ts']],
  ];
  const results: Array<{ ms: number; rssMb: number }> = [];
  for (const [name, args] of rows) {
    const all = [];
    for (let i = 0; i < runs; i++) all.push(await once(args));
    const r = { ms: median(all.map((a) => a.ms)), rssMb: median(all.map((a) => a.rssMb)) };
    results.push(r);
    console.log(`  ${name.padEnd(38)}${r.ms.toFixed(0).padStart(4)}${r.rssMb.toFixed(1).padStart(10)}`);
  }
  const [built, tsx] = results as [{ ms: number; rssMb: number }, { ms: number; rssMb: number }];
  console.log(
    `  built/tsx: time ${(built.ms / tsx.ms).toFixed(2)}, memory ${(built.rssMb / tsx.rssMb).toFixed(2)}`,
  );
}
