import { existsSync, mkdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import type { InspectionEvent } from 'xstate';
import { CallCenter, spokenGreeting } from './ai/call-center.ts';
import { type AgentOptions, agentFactory } from './ai/providers/index.ts';
import type { Config } from './config/index.ts';
import { routesContext } from './config/load.ts';
import { readRoutesFileOffLoop } from './config/routes-file.ts';
import { CallControl } from './io/call-control.ts';
import { logCalls } from './io/call-log.ts';
import { CallRecords } from './io/call-records.ts';
import { CallRouter } from './io/call-router.ts';
import { CallTraceWriter } from './io/call-trace.ts';
import { CdrFile } from './io/cdr-file.ts';
import { systemClock } from './io/clock.ts';
import { InspectorBridge } from './io/inspector-bridge.ts';
import { loadGreeting, MediaManager } from './io/media-manager.ts';
import { MetricsServer } from './io/metrics.ts';
import { localAddresses, localBroadcasts } from './io/net-info.ts';
import { currentThreadId, setThreadPriority, type ThreadPriority } from './io/priority.ts';
import { removeOldRecordings } from './io/recording.ts';
import { restApi } from './io/rest/api.ts';
import { RtpPortPool } from './io/rtp-port-pool.ts';
import { tlsFlavour } from './io/sip-tls.ts';
import { SipTransports } from './io/sip-transports.ts';
import { TrunkRegistrations } from './io/trunk-registrations.ts';
import { callWebhook } from './io/webhooks/call-webhook.ts';
import { Spool } from './io/webhooks/spool.ts';
import { StatusCallbacks } from './io/webhooks/status-callbacks.ts';
import { MediaStreams } from './io/ws/media-stream.ts';
import { WsServer } from './io/ws/ws-server.ts';
import { LogLimiter } from './kernel/log-limiter.ts';
import type { Logger } from './kernel/logger.ts';
import { CallManager } from './machines/call-manager.ts';
import { Registration } from './machines/registration.ts';
import { chime } from './media/chime.ts';
import { type RelaySettings, relaySettings, routeTable } from './relay-settings.ts';
import { OutboundPolicy } from './routing/outbound.ts';
import type { SrtpEngine } from './rtp/srtp.ts';
import { defaultPolicy } from './sip/core/policy.ts';
import { SipCore } from './sip/core/sip-core.ts';
import { bracket } from './sip/message/host.ts';
import type { Clock } from './sip/transaction/clock.ts';
import type { Address } from './sip/transport/transport.ts';

export interface Relay {
  readonly sip: { readonly address: string; readonly port: number };
  /** The SIP sockets (UDP, TCP, TLS as SIP_TRANSPORTS says). */
  readonly transports: SipTransports;
  readonly core: SipCore;
  readonly calls: CallManager;
  readonly ports: RtpPortPool;
  readonly media: MediaManager;
  readonly ws: WsServer;
  /** Present when any call can get an agent (CALL_CENTER, a routes file, CALL_WEBHOOK_URL). */
  readonly ai: CallCenter | undefined;
  /** The routes in force (ROUTES_FILE's, reloaded; else the environment's one route). */
  readonly router: CallRouter;
  /** Each ended call's record (CDR_FILE, status callbacks). */
  readonly records: CallRecords;
  /** EVENTS_WEBHOOK_URL's deliveries, when set. */
  readonly status: StatusCallbacks | undefined;
  /** The routes file's registering trunks. */
  readonly trunks: TrunkRegistrations;
  /** Present when SIP_REGISTER=true. */
  readonly registration: Registration | undefined;
  /** Prometheus' GET /metrics, present when METRICS_PORT is set. */
  readonly metrics: MetricsServer | undefined;
  /** Stops taking calls (503), hangs up every call, then closes the sockets and every timer. */
  close(): Promise<void>;
  /**
   * During close(): stop waiting for the peers to answer our BYEs (a second Ctrl-C). The BYEs are already
   * sent and every recording is still finalised.
   */
  hurry(): void;
}

export interface RelayDeps {
  readonly log: Logger;
  readonly clock?: Clock;
  /** Extra actor inspection (tests); CALL_TRACE_DIR and INSPECT are wired here from config. */
  readonly inspect?: (event: InspectionEvent, callId: string) => void;
  /** AI provider options (a test's Realtime server certificate). */
  readonly ai?: AgentOptions;
  /** How long close() lets calls hang up cleanly (BYE answered) before stopping them (default 3 s). */
  readonly shutdownGraceMs?: number;
  /** Whose SRTP the media sessions use: ours by default; `npm run bench -- media` measures werift-rtp's. */
  readonly srtpEngine?: SrtpEngine;
}

/**
 * Wires the edges to the core: UDP socket -> SipCore -> call manager; RTP port pool. Used by main and tests.
 * When a step fails (a port in use, say), what the earlier steps opened is closed again before the error
 * is thrown: sockets, the clock thread, the thread's priority.
 */
export async function startRelay(config: Config, deps: RelayDeps): Promise<Relay> {
  const undo: Array<() => unknown> = [];
  try {
    return await wire(config, deps, undo);
  } catch (e) {
    for (const step of undo.reverse()) {
      try {
        await step();
      } catch {
        // best effort: the start-up error is the one to report
      }
    }
    throw e;
  }
}

async function wire(config: Config, deps: RelayDeps, undo: Array<() => unknown>): Promise<Relay> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  const settings = relaySettings(config);
  // before any thread is started: on Linux priority is per thread, and new threads inherit nice
  const restorePriority = setMainThreadPriority(settings.priority, log);
  undo.push(restorePriority);
  // the routes file's registering trunks (made once the SIP core is; a lost connection reaches them here)
  let trunks: TrunkRegistrations | undefined;
  const refusedLog = new LogLimiter(60_000);
  const sockets = await SipTransports.open({
    host: config.SIP_LOCAL_IP,
    port: config.SIP_LOCAL_PORT,
    transports: config.SIP_TRANSPORTS,
    ...(config.tls
      ? {
          tls: {
            port: config.SIP_TLS_PORT,
            flavour: tlsFlavour(config.tls, { servername: config.SIP_TLS_SERVERNAME }),
          },
        }
      : {}),
    limits: {
      maxConnections: config.SIP_TCP_MAX_CONNECTIONS,
      maxPerSource: config.SIP_TCP_MAX_PER_SOURCE,
      idleMs: config.SIP_TCP_IDLE_S * 1000,
      keepAliveMs: config.SIP_TCP_KEEPALIVE_S * 1000,
    },
    onError: (e) => log.warn({ err: e.message }, 'SIP socket error'),
    onRefused: (source, why) =>
      refusedLog.hit((suppressed) =>
        log.warn(
          { source, suppressed },
          why === 'total'
            ? `SIP TCP/TLS connection refused: SIP_TCP_MAX_CONNECTIONS (${config.SIP_TCP_MAX_CONNECTIONS}) open`
            : `SIP TCP/TLS connection refused: SIP_TCP_MAX_PER_SOURCE (${config.SIP_TCP_MAX_PER_SOURCE}) from ${source}`,
        ),
      ),
    onConnectFailure: (dest, e) => connectFailed(dest, e, log),
    onFlowFailure: (dest) => {
      log.warn(
        { dest: `${dest.host}:${dest.port}` },
        `SIP: the connection to ${dest.host}:${dest.port} did not answer a keep-alive within 10 s: closed`,
      );
      if (dest.host === settings.upstream.host && dest.port === settings.upstream.port)
        registration?.flowFailed();
      trunks?.flowFailed(dest.host, dest.port);
    },
  });
  undo.push(() => sockets.close());
  const sipAddress = sockets.address();
  const publicHost = config.SIP_PUBLIC_IP || sipAddress.address;
  const timers = settings.timers;
  const observers = await actorObservers(config, deps, log);
  undo.push(() => observers.close());
  if (config.RECORDING) prepareRecordingDir(config, log);
  const ports = new RtpPortPool(config.SIP_LOCAL_IP, config.RTP_PORT_START, config.RTP_PORT_END);
  const broadcasts = localBroadcasts();
  const refuseRemote = refuseRtpTo(broadcasts, publicHost, sipAddress.port, ports);
  const table = routeTable(config);
  const outbound = new OutboundPolicy(() => clock.now());
  const calls = new CallManager({
    core: () => core,
    clock,
    timers,
    log,
    maxCalls: config.MAX_CALLS,
    maxSettingUpPerSource: config.MAX_RINGING_PER_SOURCE,
    // the media manager (below) owns the pool's sockets and leases a pair per call
    ports: { allocate: (callId) => media.allocate(callId), release: (callId) => media.release(callId) },
    settings: { ...settings.calls, mediaAddress: publicHost, refuseRemote },
    upstream: settings.dial,
    transferTargets: settings.transferTargets,
    route: (facts) => router.route(facts),
    outbound: (number, trunk, live) => outbound.choose(router.table, number, trunk, live),
    outboundTarget: (user, host, live, limits) =>
      outbound.chooseTarget(router.table, user, host, live, limits),
    ...(table.outgoingPlan() ? { outgoingPlan: table.outgoingPlan() } : {}),
    ...(settings.allowSource ? { allowSource: settings.allowSource } : {}),
    ...(observers.inspect ? { inspect: observers.inspect } : {}),
  });
  const core: SipCore = new SipCore({
    transport: sockets,
    clock,
    timers,
    policy: defaultPolicy(config.SIP_USER_AGENT),
    log,
    tu: calls,
    broadcasts,
    local: { host: publicHost, port: sipAddress.port },
    ...(sockets.tls ? { listeners: { tls: { host: publicHost, port: sockets.tls.address().port } } } : {}),
    sourceLimitBytes: config.SIP_SOURCE_LIMIT_MB * 1024 * 1024,
  });
  trunks = new TrunkRegistrations({
    core,
    clock,
    log: log.child({ component: 'registration' }),
    contactUser: config.SIP_FROM_USER,
    inspect: observers.inspect,
  });
  const registered = trunks;
  const registration = config.SIP_REGISTER
    ? new Registration({
        core,
        clock,
        log: log.child({ component: 'registration' }),
        contactUser: config.SIP_FROM_USER,
        settings: {
          registrar: {
            host: settings.upstream.host,
            port: settings.upstream.port,
            transport: settings.upstream.transport,
          },
          aor: settings.aor,
          expires: config.SIP_REGISTER_EXPIRES,
          ...(settings.credentials ? { credentials: settings.credentials } : {}),
        },
        ...(observers.inspect ? { inspect: observers.inspect } : {}),
      })
    : undefined;
  const subscription = sockets.inbound$.subscribe((m) => receiveSafely(core, m.data, m.source, log));
  // a message a stream could not delimit: answered (400/513) on its connection, which then closes
  subscription.add(sockets.rejections$.subscribe((r) => core.rejectStream(r.head, r.status, r.reason, r)));
  const router = new CallRouter(
    table,
    calls,
    log.child({ component: 'routes' }),
    callWebhook(log.child({ component: 'webhook' }), config.WEBHOOK_SECRET),
  );
  undo.push(() => router.close());
  if (config.ROUTES_FILE) {
    const path = config.ROUTES_FILE;
    router.watch(
      path,
      () => readRoutesFileOffLoop(path, routesContext(config)),
      (r) => {
        const next = routeTable({ ...config, routes: r.file });
        trunks?.sync(next.trunks);
        return next;
      },
    );
    log.info({ path, routes: table.file.routes.length, trunks: table.trunks.length }, 'routes file loaded');
  }
  const media = new MediaManager(calls, ports, settings.media, greeting(settings, log), log, deps.srtpEngine);
  undo.push(() => media.close());
  if (config.HOLD_MUSIC_PATH) media.musicOnHold = loadGreeting(config.HOLD_MUSIC_PATH, log, 'music on hold');
  calls.warm.bridge = media;
  media.agentGreets = (callId) => spokenGreeting(calls.plan(callId)?.agent) !== undefined;
  // after the media manager: its report of a call's end arrives before the call's end line is written
  const callLog = logCalls(calls.events$, media.ended$, log);
  undo.push(() => callLog.unsubscribe());
  // the call center serves every call whose plan has an agent: made when any route (or a webhook, whose
  // replies may ask for one) can give a call an agent
  const ai = mayHaveAgents(config)
    ? new CallCenter(calls, media, await agentFactory(config, deps.ai ?? {}), log)
    : undefined;
  if (ai) undo.push(() => ai.close());
  if (config.CALL_CENTER && !config.routes)
    log.info({ provider: config.aiProvider }, 'call center: an AI agent answers every call');
  const records = new CallRecords(calls, media, ai?.events$, { bufferMs: config.JITTER_BUFFER_MS });
  undo.push(() => records.close());
  const cdr = config.CDR_FILE ? new CdrFile(config.CDR_FILE, records.records$, log) : undefined;
  if (cdr) undo.push(() => cdr.close());
  const status = config.EVENTS_WEBHOOK_URL
    ? new StatusCallbacks(
        { url: config.EVENTS_WEBHOOK_URL, secret: config.WEBHOOK_SECRET },
        new Spool(
          config.EVENTS_SPOOL_DIR ?? join(config.OUTPUT_DIR, 'events-spool'),
          config.EVENTS_SPOOL_MAX,
          log.child({ component: 'status-callbacks' }),
        ),
        log.child({ component: 'status-callbacks' }),
      )
    : undefined;
  if (status) {
    status.follow(calls.events$, records.records$);
    undo.push(() => status.close());
  }
  const control = new CallControl(calls, media);
  const rest = restApi({
    calls,
    control,
    records,
    table: () => router.table,
    token: config.WS_TOKEN,
    origins: config.WS_ORIGINS,
    log: log.child({ component: 'rest' }),
  });
  const ws = await WsServer.start(
    {
      host: config.WS_HOST,
      port: config.WS_PORT,
      autoAnswer: config.AUTO_ANSWER,
      token: config.WS_TOKEN,
      origins: config.WS_ORIGINS,
      maxClients: config.WS_MAX_CLIENTS,
    },
    { calls, media, control, log: log.child({ component: 'ws' }), rest: rest.listener },
  );
  undo.push(() => ws.close());
  if (ai) ws.publish(ai.events$);
  const metrics =
    config.METRICS_PORT === undefined
      ? undefined
      : await MetricsServer.start(
          config.WS_HOST,
          config.METRICS_PORT,
          { calls, media, ws, registration, ai, trunks: registered, status, router, cdr },
          log,
          () => readiness(),
        );
  if (metrics) log.info({ host: config.WS_HOST, port: metrics.port }, 'metrics on GET /metrics');
  const streams = new MediaStreams(calls, media, log.child({ component: 'media-stream' }));
  registration?.start();
  registered.sync(table.trunks);
  let closed = false;
  // GET /ready: the SIP socket is open and taking calls, and the registration (when configured) is up
  const readiness = () => {
    const checks = {
      sip: !closed,
      accepting: !closed && core.accepting,
      ...(registration ? { registration: registration.status } : {}),
      // each registering trunk as `trunk.<name>`
      ...Object.fromEntries(Object.entries(registered.statuses).map(([n, st]) => [`trunk.${n}`, st])),
    };
    const ready =
      checks.sip &&
      checks.accepting &&
      (!registration || registration.status === 'registered') &&
      Object.values(registered.statuses).every((st) => st === 'registered');
    return { ready, checks };
  };
  return {
    sip: sipAddress,
    transports: sockets,
    core,
    calls,
    ports,
    registration,
    trunks: registered,
    media,
    ws,
    ai,
    router,
    records,
    status,
    metrics,
    hurry() {
      calls.hurry();
    },
    async close() {
      if (closed) return;
      closed = true;
      core.stopAccepting();
      await calls.shutdown(deps.shutdownGraceMs ?? 3000);
      streams.close();
      router.close();
      ai?.close();
      await ws.close();
      await metrics?.close();
      await media.close();
      // after the media: every ended call's recording is on disk, so its record is complete
      records.close();
      await cdr?.close();
      status?.close();
      await Promise.all([registration?.stop(), registered.stop()]);
      subscription.unsubscribe();
      callLog.unsubscribe();
      core.close();
      await sockets.close();
      await observers.close();
      restorePriority();
    },
  };
}

/** Whether any call can get an agent: CALL_CENTER, an agent route, or a webhook (its reply may ask). */
function mayHaveAgents(config: Config): boolean {
  if (!config.routes) return config.CALL_CENTER || !!config.CALL_WEBHOOK_URL;
  // a reload may add agent routes: with a routes file the call center is always there (it costs nothing idle)
  return true;
}

/** Hands a message to the SIP core; whatever it throws is logged, never the end of the relay. */
function receiveSafely(core: SipCore, data: Uint8Array, source: Address, log: Logger): void {
  try {
    core.receive(data, source);
  } catch (e) {
    // Defence in depth: the parser never throws on input, but one bad message must never end the relay.
    log.error(
      { err: e instanceof Error ? e.stack : String(e), source: `${source.address}:${source.port}` },
      'SIP message crashed the SIP core',
    );
  }
}

/**
 * A connection of ours could not be made: one log line that says why, in words for whoever set up the trunk
 * (a certificate that does not verify is the usual one over TLS).
 */
function connectFailed(dest: { host: string; port: number }, e: Error, log: Logger): void {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const where = `${dest.host}:${dest.port}`;
  if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ALTNAME/.test(code))
    log.warn(
      { dest: where, code, err: e.message },
      `TLS: refused ${where}: its certificate does not verify (${e.message}); check SIP_TLS_CA and SIP_TLS_SERVERNAME`,
    );
  else log.warn({ dest: where, code, err: e.message }, `SIP: cannot connect to ${where} (${e.message})`);
}

/** RECORDING_DIR exists, and recordings older than MAX_RECORDING_AGE_DAYS are gone. */
function prepareRecordingDir(config: Config, log: Logger): void {
  mkdirSync(config.RECORDING_DIR, { recursive: true });
  const removed = removeOldRecordings(config.RECORDING_DIR, config.MAX_RECORDING_AGE_DAYS);
  if (removed > 0) log.info({ removed, days: config.MAX_RECORDING_AGE_DAYS }, 'old recordings removed');
}

/**
 * Where RTP must never go though an SDP names it (chooseMedia refuses non-unicast on its own): a local
 * broadcast address, or the relay itself (its SIP socket would parse RTP as SIP; its RTP ports would feed
 * it its own packets).
 */
function refuseRtpTo(
  broadcasts: ReadonlySet<string>,
  publicHost: string,
  sipPort: number,
  ports: RtpPortPool,
): (address: string, port: number) => string | undefined {
  const ours = localAddresses();
  ours.add(publicHost);
  return (address, port) => {
    if (broadcasts.has(address)) return 'is a broadcast address';
    if (ours.has(address) && (port === sipPort || ports.holds(port))) return 'is the relay itself';
    return undefined;
  };
}

/**
 * Who watches the actors: call traces as JSON lines (CALL_TRACE_DIR), the Stately inspector (INSPECT=true:
 * a local bridge on INSPECT_PORT that the inspector page connects to), and a test's own hook.
 */
async function actorObservers(config: Config, deps: RelayDeps, log: Logger) {
  let inspector: { inspect: { next?: (e: InspectionEvent) => void }; stop: () => void } | undefined;
  let bridge: InspectorBridge | undefined;
  if (config.INSPECT) {
    const { createWebSocketInspector } = await import('@statelyai/inspect');
    bridge = await InspectorBridge.start({
      host: config.WS_HOST,
      port: config.INSPECT_PORT,
      token: config.WS_TOKEN,
      origins: config.WS_ORIGINS,
    });
    inspector = createWebSocketInspector({ url: bridge.publishUrl(config.WS_HOST, config.WS_TOKEN) });
    const shown = `http://${bracket(config.WS_HOST)}:${bridge.port}/`;
    log.info(
      { host: config.WS_HOST, port: bridge.port },
      `Stately inspector bridge on ${shown} (the page embeds stately.ai/inspect: it needs internet in your browser)`,
    );
  }
  // after the bridge: a taken INSPECT_PORT fails start-up before anything here is open
  const traces = config.CALL_TRACE_DIR ? new CallTraceWriter(config.CALL_TRACE_DIR) : undefined;
  const hooks = [
    traces ? (e: InspectionEvent, id: string) => traces.record(e, id) : undefined,
    inspector ? (e: InspectionEvent) => inspector.inspect.next?.(e) : undefined,
    deps.inspect,
  ].filter((h): h is (e: InspectionEvent, id: string) => void => h !== undefined);
  return {
    inspect:
      hooks.length === 0
        ? undefined
        : (e: InspectionEvent, id: string) => {
            for (const h of hooks) h(e, id);
          },
    async close() {
      await traces?.close();
      inspector?.stop();
      await bridge?.close();
    },
  };
}

/**
 * PROCESS_NICE and REALTIME_PRIORITY for the main thread (the event loop: SIP, RTP, WebSocket), as media
 * servers offer (Asterisk -p, FreeSWITCH -hp/-rp): on a busy machine the pacing thread is woken sooner.
 * The RTP clock thread gets the same when it starts (MediaManager). Without the privilege (below 0 or
 * real-time: root, CAP_SYS_NICE, or for real-time an RLIMIT_RTPRIO at least that high) a warning, and the
 * relay goes on at normal priority.
 */
function setMainThreadPriority(p: ThreadPriority, log: Logger): () => void {
  if (p.nice === undefined && p.realtime === undefined) return () => {};
  const niceBefore = getPriority(0);
  const tid = currentThreadId();
  const failed = setThreadPriority(tid, p);
  if (failed.nice)
    log.warn(
      { nice: p.nice, err: failed.nice },
      'could not set the process priority (below 0 needs root or CAP_SYS_NICE): running at normal priority',
    );
  else if (p.nice !== undefined) log.info({ nice: p.nice }, 'process priority set');
  if (failed.realtime)
    log.warn(
      { priority: p.realtime, err: failed.realtime },
      'could not set real-time priority (needs root, CAP_SYS_NICE or ulimit -r): running at normal scheduling',
    );
  else if (p.realtime !== undefined)
    log.info({ priority: p.realtime }, 'main thread runs real-time (SCHED_RR)');
  // close() gives the thread back as it was (the relay may run inside a longer-lived process)
  return () => {
    setThreadPriority(tid, {
      ...(p.nice !== undefined && !failed.nice && { nice: niceBefore }),
      ...(p.realtime !== undefined && !failed.realtime && { realtime: 0 }),
    });
  };
}

/**
 * The greeting: GREETING_PATH's WAV (`none`: no greeting), else OUTPUT_DIR/transcode/greeting.wav, else, on a
 * fresh install with neither, the built-in chime, so the first caller hears that the relay answered.
 */
function greeting(settings: RelaySettings, log: Logger): Int16Array | undefined {
  const path = settings.greetingPath;
  if (path === undefined) return undefined;
  if (settings.greetingIsDefault && !existsSync(path)) {
    log.info(
      { path },
      'no greeting file: callers hear the built-in chime (set GREETING_PATH to a WAV, or none)',
    );
    return chime();
  }
  return loadGreeting(path, log);
}
