import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Whether a peer binary is installed. CI sets REQUIRE_PEERS=1 so a missing peer fails instead of skipping. */
export function hasBinary(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found && process.env.REQUIRE_PEERS === '1')
    throw new Error(`${name} is required (REQUIRE_PEERS=1) but missing`);
  if (!found)
    console.warn(
      `${name} not installed: its peer tests are skipped (apt-get install -y sip-tester baresip tshark kamailio)`,
    );
  return found;
}

/**
 * A port free a moment ago on 127.0.0.1 for UDP and for TCP (a relay listens on both at SIP_LOCAL_PORT, and
 * tests give these numbers to TCP servers too): freeSipPort, below the kernel's ephemeral range.
 */
export function freeUdpPort(): Promise<number> {
  return freeSipPort();
}

/** Whether a TCP port can be listened on now on 127.0.0.1. */
function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Whether a UDP port can be bound now on 127.0.0.1. */
function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * A port a SIP peer can take for UDP and TCP, with the next one free for TCP too (baresip 1.0.0 binds UDP
 * and TCP on its port and TLS on the next, whatever it is told). Picked below the kernel's ephemeral range
 * (32768-60999): a TCP port there may be in TIME_WAIT after a test's connections closed, which a listener
 * without SO_REUSEADDR (baresip) cannot bind, though our check (Node sets SO_REUSEADDR) would pass.
 */
export async function freeSipPort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const p = 20_000 + 2 * Math.floor(Math.random() * 5000);
    if ((await udpFree(p)) && (await tcpFree(p)) && (await tcpFree(p + 1))) return p;
  }
  throw new Error('no free UDP+TCP port pair found on 127.0.0.1 in 20000-29999');
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; timeoutMs: number; signal?: AbortSignal },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    // the test has seen what it needed: SIGTERM (baresip quits cleanly and flushes what it printed)
    opts.signal?.addEventListener('abort', () => child.kill('SIGTERM'), { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One column of the last line of a sipp -trace_stat CSV (';'-separated). */
export function sippStat(dir: string, column: string): string | undefined {
  const csv = readdirSync(dir).find((f) => f.endsWith('_.csv'));
  if (!csv) return undefined;
  const lines = readFileSync(join(dir, csv), 'utf8').trim().split('\n');
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const i = head.indexOf(column);
  return i === -1 ? undefined : last[i];
}

/**
 * Polls every 50 ms until `done()`; throws when `timeoutMs` passes first. A wait that runs out is a failure
 * where it happened, not a silent step on to the next assertion (which may not check the same thing).
 */
export async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  for (const end = performance.now() + timeoutMs; !done(); ) {
    if (performance.now() >= end)
      throw new Error(`until: not true within ${timeoutMs} ms: ${done.toString()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts tshark capturing `filter` on loopback into `file`, resolving once tshark says "Capture started"
 * (at most 15 s): a fixed wait missed the first packets on a loaded machine. Stop it with SIGINT.
 */
export async function startCapture(filter: string, file: string): Promise<ChildProcess> {
  const capture = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file, '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve) => {
    let said = '';
    const t = setTimeout(resolve, 15_000);
    capture.stderr!.on('data', (d) => {
      said += String(d);
      if (said.includes('Capture started')) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return capture;
}
