import { join } from 'node:path';
import type { InspectionEvent } from 'xstate';
import { CallCenter, spokenGreeting } from './ai/call-center.ts';
import { type AgentOptions, agentFactory } from './ai/providers/index.ts';
import type { Config } from './config/index.ts';
import { routesContext } from './config/load.ts';
import { readRoutesFileOffLoop } from './config/routes-file.ts';
import { CallControl } from './io/calls/call-control.ts';
import { CallRouter } from './io/calls/call-router.ts';
import { systemClock } from './io/clock.ts';
import { MetricsServer } from './io/http/metrics.ts';
import { restApi } from './io/http/rest/api.ts';
import { loadGreeting } from './io/media/audio-file.ts';
import { MediaManager } from './io/media/media-manager.ts';
import { RtpLeases } from './io/media/rtp-leases.ts';
import { RtpPortPool } from './io/media/rtp-port-pool.ts';
import { localBroadcasts } from './io/net-info.ts';
import { logCalls } from './io/records/call-log.ts';
import { CallRecords } from './io/records/call-records.ts';
import { CdrFile } from './io/records/cdr-file.ts';
import type { SipTransports } from './io/sip/transports.ts';
import { callWebhook } from './io/webhooks/call-webhook.ts';
import { Spool } from './io/webhooks/spool.ts';
import { StatusCallbacks } from './io/webhooks/status-callbacks.ts';
import { MediaStreams } from './io/ws/media-stream.ts';
import { WsServer } from './io/ws/ws-server.ts';
import { Closers } from './kernel/closers.ts';
import type { Logger } from './kernel/logger.ts';
import { AttendedTransfers } from './machines/attended-transfers.ts';
import { CallManager } from './machines/call-manager.ts';
import { Registration } from './machines/registration.ts';
import { transferOnAnswer } from './machines/transfer-route.ts';
import { TrunkRegistrations } from './machines/trunk-registrations.ts';
import { actorObservers } from './relay-observers.ts';
import { greeting, prepareRecordingDir, setMainThreadPriority } from './relay-process.ts';
import { type RelaySettings, relaySettings, routeTable } from './relay-settings.ts';
import { openSip, receiveSafely, refuseRtpTo } from './relay-sip.ts';
import { OutboundPolicy } from './routing/outbound.ts';
import type { SrtpEngine } from './rtp/srtp.ts';
import { defaultPolicy } from './sip/core/policy.ts';
import { SipCore } from './sip/core/sip-core.ts';
import type { Clock } from './sip/transaction/clock.ts';

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
 * Wires the edges to the core: SIP sockets -> SipCore -> call manager; RTP port pool -> media manager; the
 * clients' doors (WebSocket, REST, metrics). Used by main and tests. Every part registers how it closes in
 * one ordered stack (kernel/closers.ts), which undoes a start that failed half-way (a port in use, say)
 * and is what close() runs.
 */
export async function startRelay(config: Config, deps: RelayDeps): Promise<Relay> {
  const closers = new Closers();
  try {
    return await wire(config, deps, closers);
  } catch (e) {
    await closers.run().catch(() => {}); // best effort: the start-up error is the one to report
    throw e;
  }
}

async function wire(config: Config, deps: RelayDeps, closers: Closers): Promise<Relay> {
  const { log } = deps;
  const clock = deps.clock ?? systemClock;
  const settings = relaySettings(config);
  // before any thread is started: on Linux priority is per thread, and new threads inherit nice
  closers.add('process', setMainThreadPriority(settings.priority, log));
  const { sockets, flowFailed$ } = await openSip(config, log);
  closers.add('signalling', () => sockets.close());
  const sipAddress = sockets.address();
  const publicHost = config.SIP_PUBLIC_IP || sipAddress.address;
  const timers = settings.timers;
  const observers = await actorObservers(config, deps.inspect, log);
  closers.add('process', () => observers.close());
  if (config.RECORDING) prepareRecordingDir(config, log);
  const ports = new RtpPortPool(config.SIP_LOCAL_IP, config.RTP_PORT_START, config.RTP_PORT_END);
  const broadcasts = localBroadcasts();
  const refuseRemote = refuseRtpTo(broadcasts, publicHost, sipAddress.port, ports);
  // the calls' port pairs: leased by the call manager, their sockets read by the media manager (below)
  const leases = new RtpLeases(ports);
  closers.add('media', () => leases.close()); // after the media manager's sessions (registered later)
  const table = routeTable(config);
  const outbound = new OutboundPolicy(() => clock.now());
  const router = new CallRouter(
    table,
    log.child({ component: 'routes' }),
    callWebhook(log.child({ component: 'webhook' }), config.WEBHOOK_SECRET),
  );
  closers.add('clients', () => router.close());
  // the call manager and the SIP core need each other: the core is the call manager's once it exists
  const calls = new CallManager({
    core: () => core,
    clock,
    timers,
    log,
    maxCalls: config.MAX_CALLS,
    maxSettingUpPerSource: config.MAX_RINGING_PER_SOURCE,
    ports: leases,
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
  closers.add('signalling', () => core.close());
  // the calls end first, while everything they use still runs: new ones get 503, live ones a BYE
  closers.add('calls', async () => {
    core.stopAccepting();
    await calls.shutdown(deps.shutdownGraceMs ?? 3000);
  });
  const subscription = sockets.inbound$.subscribe((m) => receiveSafely(core, m.data, m.source, log));
  // a message a stream could not delimit: answered (400/513) on its connection, which then closes
  subscription.add(sockets.rejections$.subscribe((r) => core.rejectStream(r.head, r.status, r.reason, r)));
  closers.add('signalling', () => subscription.unsubscribe());
  const { registration, trunks } = makeRegistrations(config, settings, core, clock, log, observers.inspect);
  // a flow to a registrar that stopped answering its keep-alives: the registration through it starts again
  subscription.add(
    flowFailed$.subscribe((dest) => {
      if (dest.host === settings.upstream.host && dest.port === settings.upstream.port)
        registration?.flowFailed();
      trunks.flowFailed(dest.host, dest.port);
    }),
  );
  const transferRoutes = transferOnAnswer(calls, log.child({ component: 'routes' }));
  closers.add('clients', () => transferRoutes.unsubscribe());
  if (config.ROUTES_FILE) {
    const path = config.ROUTES_FILE;
    router.watch(
      path,
      () => readRoutesFileOffLoop(path, routesContext(config)),
      (r) => {
        const next = routeTable({ ...config, routes: r.file });
        trunks.sync(next.trunks);
        return next;
      },
    );
    log.info({ path, routes: table.file.routes.length, trunks: table.trunks.length }, 'routes file loaded');
  }
  const media = new MediaManager(
    calls,
    leases,
    settings.media,
    {
      greeting: greeting(settings, log),
      musicOnHold: config.HOLD_MUSIC_PATH
        ? loadGreeting(config.HOLD_MUSIC_PATH, log, 'music on hold')
        : undefined,
      agentGreets: (callId) => spokenGreeting(calls.plan(callId)?.agent) !== undefined,
    },
    log,
    deps.srtpEngine,
  );
  closers.add('media', () => media.close());
  // warm transfers: the relay calls the target, then joins the two calls (the media manager bridges)
  const warm = new AttendedTransfers(calls.transferCalls(), media, log);
  closers.add('clients', () => warm.close());
  // after the media manager: its report of a call's end arrives before the call's end line is written
  const callLog = logCalls(calls.events$, media.ended$, log);
  closers.add('records', () => callLog.unsubscribe());
  // the call center serves every call whose plan has an agent: made when any route (or a webhook, whose
  // replies may ask for one) can give a call an agent
  const ai = mayHaveAgents(config)
    ? new CallCenter(calls, media, warm, await agentFactory(config, deps.ai ?? {}), log)
    : undefined;
  if (ai) closers.add('clients', () => ai.close());
  if (config.CALL_CENTER && !config.routes)
    log.info({ provider: config.aiProvider }, 'call center: an AI agent answers every call');
  const { records, cdr, status } = startRecords(config, calls, media, ai, log, closers);
  const control = new CallControl(calls, media, warm);
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
  closers.add('clients', () => ws.close());
  if (ai) ws.publish(ai.events$);
  let closed = false;
  // GET /ready: the SIP socket is open and taking calls, and the registration (when configured) is up
  const readiness = () => {
    const checks = {
      sip: !closed,
      accepting: !closed && core.accepting,
      ...(registration ? { registration: registration.status } : {}),
      // each registering trunk as `trunk.<name>`
      ...Object.fromEntries(Object.entries(trunks.statuses).map(([n, st]) => [`trunk.${n}`, st])),
    };
    const ready =
      checks.sip &&
      checks.accepting &&
      (!registration || registration.status === 'registered') &&
      Object.values(trunks.statuses).every((st) => st === 'registered');
    return { ready, checks };
  };
  const metrics =
    config.METRICS_PORT === undefined
      ? undefined
      : await MetricsServer.start(
          config.WS_HOST,
          config.METRICS_PORT,
          { calls, media, ws, registration, ai, trunks, status, router, cdr },
          log,
          readiness,
        );
  if (metrics) {
    closers.add('clients', () => metrics.close());
    log.info({ host: config.WS_HOST, port: metrics.port }, 'metrics on GET /metrics');
  }
  const streams = new MediaStreams(calls, media, log.child({ component: 'media-stream' }));
  closers.add('clients', () => streams.close());
  registration?.start();
  trunks.sync(table.trunks);
  // once started (a registration never started has nothing to take back): un-REGISTER before the sockets go
  closers.add('signalling', () => Promise.all([registration?.stop(), trunks.stop()]));
  return {
    sip: sipAddress,
    transports: sockets,
    core,
    calls,
    ports,
    registration,
    trunks,
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
    close() {
      closed = true;
      return closers.run();
    },
  };
}

/** The upstream registration (SIP_REGISTER) and the routes file's registering trunks. */
function makeRegistrations(
  config: Config,
  settings: RelaySettings,
  core: SipCore,
  clock: Clock,
  log: Logger,
  inspect: ((event: InspectionEvent, callId: string) => void) | undefined,
) {
  const trunks = new TrunkRegistrations({
    core,
    clock,
    log: log.child({ component: 'registration' }),
    contactUser: config.SIP_FROM_USER,
    inspect,
  });
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
        ...(inspect ? { inspect } : {}),
      })
    : undefined;
  return { registration, trunks };
}

/**
 * What records the calls: each ended call's record, the CDR file (CDR_FILE) and the status callbacks
 * (EVENTS_WEBHOOK_URL). They close after the media (every recording on disk), the records first so the
 * last ones reach the file and the callbacks.
 */
function startRecords(
  config: Config,
  calls: CallManager,
  media: MediaManager,
  ai: CallCenter | undefined,
  log: Logger,
  closers: Closers,
) {
  const records = new CallRecords(calls, media, ai?.events$, { bufferMs: config.JITTER_BUFFER_MS });
  const cdr = config.CDR_FILE ? new CdrFile(config.CDR_FILE, records.records$, log) : undefined;
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
  status?.follow(calls.events$, records.records$);
  // newest first within the phase: records, then the CDR file, then the callbacks
  if (status) closers.add('records', () => status.close());
  if (cdr) closers.add('records', () => cdr.close());
  closers.add('records', () => records.close());
  return { records, cdr, status };
}

/** Whether any call can get an agent: CALL_CENTER, an agent route, or a webhook (its reply may ask). */
function mayHaveAgents(config: Config): boolean {
  if (!config.routes) return config.CALL_CENTER || !!config.CALL_WEBHOOK_URL;
  // a reload may add agent routes: with a routes file the call center is always there (it costs nothing idle)
  return true;
}
