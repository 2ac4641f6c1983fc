import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatProblems, loadConfig } from './config/index.ts';
import { createLogger } from './io/log.ts';
import { signalVerdict } from './io/signal-presses.ts';
import { startRelay } from './relay.ts';

/** Composition root: config -> logger -> relay; signals end it cleanly. */
async function main(): Promise<void> {
  // `npm run call-center` (the original's `python call_center.py`): the same relay with the AI on every call
  const loaded = loadConfig(
    process.argv.includes('--call-center') ? { overrides: { CALL_CENTER: 'true' } } : {},
  );
  if (!loaded.ok) {
    process.stderr.write(`${formatProblems(loaded.problems)}\n`);
    process.exit(1);
  }
  const config = loaded.config;
  // a log file that cannot be written is a configuration problem like any other: one line, exit 1
  const logFile = writable(config.SIP_LOG_FILE);
  if (logFile) {
    process.stderr.write(
      `${formatProblems([`SIP_LOG_FILE: cannot write ${config.SIP_LOG_FILE} (${logFile})`])}\n`,
    );
    process.exit(1);
  }
  const { log, flush } = createLogger({ level: config.LOG_LEVEL, file: config.SIP_LOG_FILE });
  for (const w of loaded.warnings) log.warn({}, `configuration: ${w}`);
  let relay: Awaited<ReturnType<typeof startRelay>>;
  try {
    relay = await startRelay(config, { log });
  } catch (e) {
    log.fatal(
      { err: (e as Error).message },
      `cannot start: ${(e as Error).message} (SIP ${config.SIP_TRANSPORTS.filter((x) => x !== 'tls').join('/')} ${config.SIP_LOCAL_IP}:${config.SIP_LOCAL_PORT}` +
        `${config.SIP_TRANSPORTS.includes('tls') ? `, tls ${config.SIP_LOCAL_IP}:${config.SIP_TLS_PORT}` : ''}, WebSocket ${config.WS_HOST}:${config.WS_PORT}` +
        `${config.METRICS_PORT === undefined ? '' : `, metrics ${config.WS_HOST}:${config.METRICS_PORT}`}` +
        `${config.INSPECT ? `, inspector ${config.WS_HOST}:${config.INSPECT_PORT}` : ''})`,
    );
    await flush();
    process.exit(1);
  }
  const t = relay.transports;
  const listening = [
    t.udp && `udp ${t.udp.address().address}:${t.udp.address().port}`,
    t.tcp && `tcp ${t.tcp.address().address}:${t.tcp.address().port}`,
    t.tls && `tls ${t.tls.address().address}:${t.tls.address().port}`,
  ].filter(Boolean);
  log.info(
    { sip: relay.sip, upstream: `${config.SIP_SERVER_IP}:${config.SIP_TRANSFER_PORT}` },
    `SIP relay listening on ${listening.join(', ')}, WebSocket and REST ws://${config.WS_HOST}:${relay.ws.port}/`,
  );

  // SIGTERM (systemd, docker stop, kill), SIGINT (Ctrl-C) and SIGHUP (the terminal or SSH session closed)
  // all stop gracefully: new calls get 503, every call gets BYE, recordings are finalised, unREGISTER.
  // A repeated signal never cuts the shutdown short; a second Ctrl-C pressed by a person (not npm's copy of
  // the first) hurries it: no more waiting for the BYEs' answers (io/signal-presses.ts).
  let stopping: { signal: string; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    const verdict = signalVerdict(stopping, signal, performance.now());
    if (verdict !== 'stop') {
      log.info(
        { signal },
        verdict === 'hurry' ? 'second Ctrl-C: not waiting for BYE answers' : 'already shutting down',
      );
      if (verdict === 'hurry') relay.hurry();
      return;
    }
    stopping = { signal, at: performance.now() };
    log.info({ signal }, 'shutting down');
    void relay
      .close()
      .catch((e: unknown) => log.error({ err: String(e) }, 'error while shutting down'))
      .then(() => flush())
      .then(() => process.exit(0));
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
}

/** Why `file` cannot be appended to (its folder made if missing), or undefined when it can ('' = no file). */
function writable(file: string): string | undefined {
  if (!file) return undefined;
  try {
    mkdirSync(dirname(file), { recursive: true });
    closeSync(openSync(file, 'a'));
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

void main();
