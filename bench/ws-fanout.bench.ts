import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/kernel/logger.ts';
import { startRelay } from '../src/relay.ts';

const root = join(import.meta.dirname, '..');
const CALLS = Number(process.env.BENCH_WS_CALLS ?? 100);
const WINDOW = 8000;

/**
 * WebSocket fan-out: CALLS calls with RTP both ways (generator in a second process), measured first with no
 * WebSocket client, then with one legacy client (RTP:{pt}##{hex}) and one JSON client subscribed to all
 * audio (clients in a third process). Reports the added relay CPU per call and the time from a packet's
 * arrival to its events handed to both sockets.
 */
export async function runWsFanoutBench(): Promise<void> {
  const cfg = parseConfig({
    SIP_LOCAL_PORT: '0',
    WS_PORT: '0',
    SIP_LOG_FILE: '',
    LOG_LEVEL: 'silent',
    RTP_PORT_START: '53000',
    RTP_PORT_END: '55999',
    MAX_CALLS: '2000',
    MAX_RINGING_PER_SOURCE: '2000', // one generator sets up every call
    RECORDING: 'false',
    RTP_TIMEOUT_S: '0',
  });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const relay = await startRelay(cfg.config, { log: silentLogger });
  const seconds = Math.ceil((3 * WINDOW) / 1000) + 8;
  const gen = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/rtp-generator.ts', String(relay.sip.port), String(CALLS), String(seconds)],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const genExit = new Promise((r) => gen.on('exit', r));
  for (let i = 0; i < 600 && relay.media.size < CALLS; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 1000));
  const cpuOver = async () => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, WINDOW));
    const c = process.cpuUsage(c0);
    return ((c.user + c.system) / 1000 / (performance.now() - t0)) * 100;
  };
  const without = await cpuOver();
  const clients = spawn(process.execPath, ['--import', 'tsx', 'bench/ws-clients.ts', String(relay.ws.port)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  clients.stdout.on('data', (d) => (out += d));
  while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500));
  const latency: number[] = [];
  relay.ws.sendLatency = (ms) => latency.push(ms);
  const withClients = await cpuOver();
  relay.ws.sendLatency = undefined;
  clients.kill('SIGTERM');
  await new Promise((r) => clients.on('exit', r));
  const counts = JSON.parse(out.trim().split('\n').at(-1)!) as { legacyRtp: number; jsonAudio: number };
  await genExit;
  await relay.close();
  latency.sort((a, b) => a - b);
  const p = (q: number) =>
    (latency[Math.min(latency.length - 1, Math.floor(q * latency.length))] ?? 0).toFixed(3);
  console.log(
    `\nWebSocket fan-out: ${CALLS} calls streaming to one legacy and one JSON client (${WINDOW / 1000} s windows)`,
  );
  console.log(
    `  relay CPU: ${without.toFixed(1)} % of a core without clients, ${withClients.toFixed(1)} % with them`,
  );
  console.log(`  added CPU per call: ${((withClients - without) / CALLS).toFixed(3)} % of a core`);
  console.log(
    `  RTP arrival -> events handed to both sockets: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (${latency.length} packets)`,
  );
  console.log(
    `  received by the clients: ${counts.legacyRtp} RTP:{pt}##{hex}, ${counts.jsonAudio} call.audio`,
  );
}
