import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from 'rxjs';
import type { CallCenter } from '../../ai/call-center.ts';
import type { Logger } from '../../kernel/logger.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import type { Registration } from '../../machines/registration.ts';
import type { TrunkRegistrations } from '../../machines/trunk-registrations.ts';
import type { CallRouter } from '../calls/call-router.ts';
import type { MediaManager } from '../media/media-manager.ts';
import type { CdrFile } from '../records/cdr-file.ts';
import type { StatusCallbacks } from '../webhooks/status-callbacks.ts';
import type { WsServer } from '../ws/ws-server.ts';

/** What the metrics read of the calls (a narrow port: the call manager provides it). */
export type MeasuredCalls = Pick<CallManager, 'events$' | 'list' | 'strangersRefused'>;

export interface MetricsSources {
  readonly calls: MeasuredCalls;
  readonly media: MediaManager;
  readonly ws: WsServer;
  readonly registration: Registration | undefined;
  /** The call center (CALL_CENTER=true). */
  readonly ai?: CallCenter | undefined;
  /** The routes file's registering trunks. */
  readonly trunks?: TrunkRegistrations | undefined;
  /** EVENTS_WEBHOOK_URL's deliveries. */
  readonly status?: StatusCallbacks | undefined;
  /** The routes in force (reloads). */
  readonly router?: CallRouter | undefined;
  /** CDR_FILE's writer. */
  readonly cdr?: CdrFile | undefined;
}

/** A frame sent later than this after its deadline counts as late (the media target: p99 <= 2 ms). */
const LATE_MS = 2;

/**
 * The relay's figures in Prometheus' text format (prom-client): calls up and ended (by direction and
 * reason), RTP packets sent, received and lost, each ended call's jitter and round trip, paced frames and
 * the late ones, registration, WebSocket clients, and Node's own process metrics (CPU, memory, event-loop
 * delay, GC). Counters that the media engine already keeps are read when scraped, not counted twice.
 */
export function relayMetrics(src: MetricsSources): { registry: Registry; stop(): void } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const p = 'sip_relay_';

  new Gauge({
    name: `${p}calls_active`,
    help: 'Calls that have not ended',
    registers: [registry],
    collect() {
      this.set(src.calls.list().length);
    },
  });
  const ended = new Counter({
    name: `${p}calls_ended_total`,
    help: 'Calls ended, by direction and reason',
    labelNames: ['direction', 'reason'],
    registers: [registry],
  });
  new Counter({
    name: `${p}invites_refused_unknown_source_total`,
    help: "INVITEs answered 403 because their source is outside SIP_ALLOWED_SOURCES or every trunk's sources (logged once a minute, no CDR or callback each)",
    registers: [registry],
    collect() {
      this.reset();
      this.inc(src.calls.strangersRefused);
    },
  });
  const subs: Subscription[] = [
    src.calls.events$.subscribe((e) => {
      if (e.type === 'call.ended') ended.inc({ direction: e.direction, reason: e.reason });
    }),
  ];

  const totals = (key: 'sent' | 'received' | 'lost', name: string, help: string) => {
    // a live call's loss can shrink when a late packet arrives after all: a counter never goes down
    let last = 0;
    return new Counter({
      name: `${p}${name}`,
      help,
      registers: [registry],
      collect() {
        last = Math.max(last, src.media.totals()[key]);
        this.reset();
        this.inc(last);
      },
    });
  };
  totals('sent', 'rtp_packets_sent_total', 'RTP packets sent');
  totals('received', 'rtp_packets_received_total', 'RTP packets received and accepted');
  totals('lost', 'rtp_packets_lost_total', 'RTP packets lost on the way in (RFC 3550 A.3)');

  const jitter = new Histogram({
    name: `${p}rtp_jitter_seconds`,
    help: "Interarrival jitter of each ended call's incoming RTP (RFC 3550 A.8)",
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
    registers: [registry],
  });
  const rtt = new Histogram({
    name: `${p}rtp_round_trip_seconds`,
    help: 'Round trip from RTCP reports, per ended call that had one',
    buckets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
    registers: [registry],
  });
  subs.push(
    src.media.ended$.subscribe((r) => {
      if (r.received > 0) jitter.observe(r.jitterMs / 1000);
      if (r.rttMs !== undefined) rtt.observe(r.rttMs / 1000);
    }),
  );

  const lateness = src.media.scheduler.lateness;
  new Counter({
    name: `${p}rtp_frames_paced_total`,
    help: 'Outgoing RTP frames handed out by the 20 ms scheduler',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(lateness.count);
    },
  });
  new Counter({
    name: `${p}rtp_frames_late_total`,
    help: `Outgoing RTP frames sent more than ${LATE_MS} ms after their deadline`,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(lateness.countOver(LATE_MS));
    },
  });

  if (src.registration) {
    const registration = src.registration;
    new Gauge({
      name: `${p}registration_up`,
      help: '1 while registered at the upstream server (SIP_REGISTER), else 0',
      registers: [registry],
      collect() {
        this.set(registration.status === 'registered' ? 1 : 0);
      },
    });
  }
  if (src.trunks) {
    const trunks = src.trunks;
    new Gauge({
      name: `${p}trunk_registration_up`,
      help: '1 while the trunk is registered (routes file, register: true), else 0',
      labelNames: ['trunk'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [trunk, status] of Object.entries(trunks.statuses))
          this.set({ trunk }, status === 'registered' ? 1 : 0);
      },
    });
  }
  if (src.status) {
    const status = src.status;
    new Gauge({
      name: `${p}status_callbacks_spooled`,
      help: 'Status callbacks waiting in EVENTS_SPOOL_DIR to be delivered',
      registers: [registry],
      collect() {
        this.set(status.spooled);
      },
    });
    new Counter({
      name: `${p}status_callbacks_total`,
      help: 'Status callbacks by outcome: delivered, failed (an attempt to retry), dropped',
      labelNames: ['outcome'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ outcome: 'delivered' }, status.counts.delivered);
        this.inc({ outcome: 'failed' }, status.counts.failedAttempts);
        this.inc({ outcome: 'dropped' }, status.counts.dropped);
      },
    });
    new Gauge({
      name: `${p}status_callbacks_in_memory`,
      help: 'Status callbacks held in memory because EVENTS_SPOOL_DIR refused the write (full or read-only disk)',
      registers: [registry],
      collect() {
        this.set(status.spool.inMemory);
      },
    });
  }
  new Counter({
    name: `${p}disk_write_errors_total`,
    help: 'Failed writes by what was written: spool (EVENTS_SPOOL_DIR), cdr (CDR_FILE); nothing is lost while memory holds it',
    labelNames: ['file'],
    registers: [registry],
    collect() {
      this.reset();
      if (src.status) this.inc({ file: 'spool' }, src.status.spool.writeErrors);
      if (src.cdr) this.inc({ file: 'cdr' }, src.cdr.writeErrors);
    },
  });
  if (src.cdr) {
    const cdr = src.cdr;
    new Gauge({
      name: `${p}cdr_pending`,
      help: 'CDR lines waiting in memory to be written to CDR_FILE',
      registers: [registry],
      collect() {
        this.set(cdr.pending);
      },
    });
    new Counter({
      name: `${p}cdr_dropped_total`,
      help: 'CDR lines dropped because too many waited for a disk that refused them',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(cdr.dropped);
      },
    });
  }
  if (src.router) {
    const router = src.router;
    new Counter({
      name: `${p}routes_reloads_total`,
      help: 'Reloads of ROUTES_FILE: ok, or refused (the file had problems; the old routes stayed)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        this.inc({ result: 'ok' }, router.reloads.ok);
        this.inc({ result: 'refused' }, router.reloads.failed);
      },
    });
  }
  if (src.ai) {
    const reply = new Histogram({
      name: `${p}ai_reply_seconds`,
      help: "From the end of the caller's turn to the first reply audio queued for the caller",
      buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5],
      registers: [registry],
    });
    const bargeIns = new Counter({
      name: `${p}ai_barge_ins_total`,
      help: 'Replies cut short by the caller speaking',
      registers: [registry],
    });
    const errors = new Counter({
      name: `${p}ai_errors_total`,
      help: 'AI provider failures (the caller heard the recovery prompt)',
      registers: [registry],
    });
    subs.push(
      src.ai.events$.subscribe((e) => {
        if (e.type === 'ai.latency' && e.stages['audio.queued'] !== undefined)
          reply.observe(e.stages['audio.queued'] / 1000);
        else if (e.type === 'ai.barge_in') bargeIns.inc();
        else if (e.type === 'ai.error') errors.inc();
      }),
    );
  }
  new Gauge({
    name: `${p}websocket_clients`,
    help: 'Connected WebSocket clients',
    registers: [registry],
    collect() {
      this.set(src.ws.clients);
    },
  });
  return {
    registry,
    stop: () => {
      for (const s of subs) s.unsubscribe();
    },
  };
}

/** What GET /ready reports: each check, and whether all of them pass. */
export interface Readiness {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, boolean | string>>;
}

/**
 * On its own port (METRICS_PORT): GET /metrics (Prometheus), GET /health (liveness: the process answers)
 * and GET /ready (readiness: 200 or 503 with the checks as JSON, for load balancers, Docker and
 * Kubernetes); anything else is 404.
 */
export class MetricsServer {
  private constructor(
    readonly server: Server,
    readonly stopMetrics: () => void,
  ) {}

  static start(
    host: string,
    port: number,
    src: MetricsSources,
    log: Logger,
    readiness: () => Readiness = () => ({ ready: true, checks: {} }),
  ): Promise<MetricsServer> {
    const { registry, stop } = relayMetrics(src);
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://relay').pathname;
      const json = (status: number, body: object) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      if (req.method === 'GET' && path === '/health') return void json(200, { status: 'ok' });
      if (req.method === 'GET' && path === '/ready') {
        const r = readiness();
        return void json(r.ready ? 200 : 503, r);
      }
      if (req.method !== 'GET' || path !== '/metrics') {
        res
          .writeHead(404, { 'content-type': 'text/plain' })
          .end('not found: GET /metrics, /health or /ready\n');
        return;
      }
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (e: unknown) => {
          log.warn({ err: e instanceof Error ? e.message : String(e) }, 'metrics collection failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n');
        },
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', (e) => {
        stop();
        reject(e);
      });
      server.listen(port, host, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => log.warn({ err: e.message }, 'metrics server error'));
        resolve(new MetricsServer(server, stop));
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  close(): Promise<void> {
    this.stopMetrics();
    return new Promise((r) => {
      this.server.closeAllConnections();
      this.server.close(() => r());
    });
  }
}
