import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt } from './measure.ts';

/**
 * Call setups per second: sipp's built-in uac (INVITE, 200, ACK, BYE at once) against the relay started as
 * `npm start` would, then against sipp's own built-in uas (the peer) at the same offered rate, each for
 * BENCH_SECONDS (default 30). Reports achieved rate, failures, retransmissions and mean response time.
 */
const root = join(import.meta.dirname, '..');
const seconds = Number(process.env.BENCH_SECONDS ?? 30);
const rates = (process.env.BENCH_RATES ?? '500,1000').split(',').map(Number);

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface Result {
  ok: number;
  failed: number;
  retrans: number;
  rate: number;
  rtMs: number;
}

function stats(dir: string): Result {
  const csv = readdirSync(dir).find((f) => f.endsWith('_.csv'))!;
  const lines = readFileSync(join(dir, csv), 'utf8').trim().split('\n');
  const head = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  const col = (n: string) => last[head.indexOf(n)] ?? '';
  const rt = col('ResponseTime1(C)').split(':').map(Number); // hh:mm:ss:usec
  const elapsed = col('ElapsedTime(C)').split(':').map(Number);
  const elapsedS =
    (elapsed[0] ?? 0) * 3600 + (elapsed[1] ?? 0) * 60 + (elapsed[2] ?? 0) + (elapsed[3] ?? 0) / 1e6;
  const ok = Number(col('SuccessfulCall(C)'));
  return {
    ok,
    failed: Number(col('FailedCall(C)')),
    retrans: Number(col('Retransmissions(C)')),
    rate: ok / elapsedS,
    rtMs: ((rt[2] ?? 0) * 1000 + (rt[3] ?? 0) / 1000) | 0,
  };
}

async function uac(target: string, rate: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-uac-'));
  const port = await freePort();
  const args = ['-sn', 'uac', '-i', '127.0.0.1', '-p', String(port), '-s', 'relay', '-r', String(rate)];
  args.push('-m', String(rate * seconds), '-d', '0', '-l', '5000', '-nostdin', '-trace_stat', '-fd', '1');
  args.push('-timeout', `${seconds + 60}s`, target);
  spawnSync('sipp', args, { cwd: dir, stdio: 'ignore', timeout: (seconds + 90) * 1000 });
  return stats(dir);
}

/**
 * Waits until the relay's log file says `text`. The log goes to a file, not a pipe: sipp runs under
 * spawnSync, which blocks this process, and a pipe nobody drains fills up and stalls the relay's logging
 * (and with it the relay: every call failed).
 */
async function waitFor(log: string, text: string): Promise<void> {
  const end = Date.now() + 20_000;
  while (!readFileSync(log, 'utf8').includes(text)) {
    if (Date.now() > end) throw new Error(`no "${text}" in:\n${readFileSync(log, 'utf8')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runCallSetupBench(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v sipp']).status !== 0) {
    console.log('call setups: skipped (sipp not installed: apt-get install -y sip-tester)');
    return;
  }
  console.log(
    `\nCall setups per second (sipp uac, immediate BYE, ${seconds} s per run; 0 failed calls required)`,
  );
  console.log(
    '  offered   relay: calls/s  failed  retrans  resp ms   sipp uas: calls/s  failed  resp ms   relay/uas',
  );
  for (const rate of rates) {
    const relayPort = await freePort();
    const log = join(mkdtempSync(join(tmpdir(), 'bench-relay-')), 'relay.log');
    const out = openSync(log, 'w');
    const relay = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        SIP_LOCAL_PORT: String(relayPort),
        WS_PORT: '0',
        RTP_PORT_START: '20000',
        RTP_PORT_END: '29999',
        MAX_CALLS: '5000',
        MAX_RINGING_PER_SOURCE: '5000',
        SIP_SOURCE_LIMIT_MB: '4096', // one load generator, one address: 1,000 setups/s hold ~90 MB
        LOG_LEVEL: 'info',
        SIP_LOG_FILE: '',
      },
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    await waitFor(log, 'SIP relay listening');
    const ours = await uac(`127.0.0.1:${relayPort}`, rate);
    relay.kill('SIGTERM');
    await new Promise((r) => relay.on('exit', r));

    const uasPort = await freePort();
    const uasDir = mkdtempSync(join(tmpdir(), 'bench-uas-'));
    const uas = spawn('sipp', ['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-nostdin'], {
      cwd: uasDir,
      stdio: 'ignore',
    });
    await new Promise((r) => setTimeout(r, 500));
    const peer = await uac(`127.0.0.1:${uasPort}`, rate);
    uas.kill('SIGKILL');

    console.log(
      `  ${String(rate).padStart(7)}${fmt(ours.rate).padStart(17)}${String(ours.failed).padStart(8)}${String(ours.retrans).padStart(9)}` +
        `${String(ours.rtMs).padStart(9)}${fmt(peer.rate).padStart(20)}${String(peer.failed).padStart(8)}${String(peer.rtMs).padStart(9)}` +
        `${(ours.rate / peer.rate).toFixed(2).padStart(12)}`,
    );
  }
}
