import { formatProblems, loadConfig } from './config/index.ts';
import { createLogger } from './io/log.ts';
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
  const { log, flush } = createLogger({ level: config.LOG_LEVEL, file: config.SIP_LOG_FILE });
  for (const w of loaded.warnings) log.warn({}, `configuration: ${w}`);
  let relay: Awaited<ReturnType<typeof startRelay>>;
  try {
    relay = await startRelay(config, { log });
  } catch (e) {
    log.fatal(
      { err: (e as Error).message },
      `cannot start: ${(e as Error).message} (SIP udp ${config.SIP_LOCAL_IP}:${config.SIP_LOCAL_PORT}, WebSocket ${config.WS_HOST}:${config.WS_PORT}` +
        `${config.METRICS_PORT === undefined ? '' : `, metrics ${config.WS_HOST}:${config.METRICS_PORT}`}` +
        `${config.INSPECT ? `, inspector ${config.WS_HOST}:${config.INSPECT_PORT}` : ''})`,
    );
    await flush();
    process.exit(1);
  }
  log.info(
    { sip: relay.sip, upstream: `${config.SIP_SERVER_IP}:${config.SIP_TRANSFER_PORT}` },
    `SIP relay listening on udp ${relay.sip.address}:${relay.sip.port}, WebSocket ws://${config.WS_HOST}:${relay.ws.port}/`,
  );

  // SIGTERM (systemd, docker stop, kill), SIGINT (Ctrl-C) and SIGHUP (the terminal or SSH session closed)
  // all stop gracefully: new calls get 503, every call gets BYE, recordings are finalised, unREGISTER.
  // Signals often come twice (systemd's KillMode=control-group and `kill -- -PGID` reach npm as well as
  // node, and npm forwards its own): a repeat must never cut the shutdown short. Only a second Ctrl-C
  // within a few seconds hurries it (no more waiting for the BYEs' answers), as people expect.
  let stopping: { signal: string; at: number } | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      const hurry = signal === 'SIGINT' && stopping.signal === 'SIGINT' && Date.now() - stopping.at < 5000;
      log.info({ signal }, hurry ? 'second Ctrl-C: not waiting for BYE answers' : 'already shutting down');
      if (hurry) relay.hurry();
      return;
    }
    stopping = { signal, at: Date.now() };
    log.info({ signal }, 'shutting down');
    void relay
      .close()
      .catch((e: unknown) => log.error({ err: String(e) }, 'error while shutting down'))
      .then(() => flush())
      .then(() => process.exit(0));
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
}

void main();
