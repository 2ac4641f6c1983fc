import { createServer, type RequestListener, type Server } from 'node:http';
import type { Observable, Subscription } from 'rxjs';
import { type WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../../kernel/logger.ts';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import type { CallControl } from '../calls/call-control.ts';
import type { MediaManager } from '../media/media-manager.ts';
import { originAllowed, presentsToken } from './access.ts';
import { type AudioPacket, type ClientSession, openSession, type ProtocolTexts } from './client-protocol.ts';
import { guardHttp, HTTP_LIMITS, httpServerOptions } from './http-guard.ts';
import { JsonClients } from './json-clients.ts';
import { type LegacyCalls, LegacyClients } from './legacy-clients.ts';
import { CLOSE_AT, DROP_AUDIO_AT, MAX_MESSAGE_BYTES } from './limits.ts';

/** What the WebSocket server hears of the calls and its legacy clients drive (a narrow port: the call manager provides it). */
export type ServedCalls = LegacyCalls & Pick<CallManager, 'events$'>;

interface Client {
  readonly ws: WebSocket;
  readonly id: number;
  /** `/v1` speaks the typed JSON protocol; any other path the original text protocol. */
  readonly protocol: ProtocolTexts;
  /** Its index in #protocols (fan-out encodes each event once per protocol). */
  readonly kind: number;
  /** The protocol's per-connection side. */
  readonly session: ClientSession;
  alive: boolean;
  dropped: number;
}

/**
 * The WebSocket server on WS_HOST:WS_PORT: the typed JSON protocol on /v1, the original text protocol on any
 * other path (json-clients.ts, legacy-clients.ts). This keeps listening, authentication, keepalive,
 * backpressure and fan-out: every event goes to every client in its protocol's words, a bad command gets
 * an error reply and the connection stays. Never blocks the engine on a client: each has a bounded
 * backlog; audio is dropped first.
 */
export class WsServer {
  readonly #wss: WebSocketServer;
  readonly #clients = new Set<Client>();
  readonly #protocols: readonly ProtocolTexts[];
  readonly #open: ReadonlyArray<() => ClientSession>;
  /** Per audio packet: its text in each protocol, made for the first client that wants it. */
  readonly #audioTexts: Array<string | undefined>;
  readonly #subs: Subscription[] = [];
  readonly #ping: NodeJS.Timeout;
  #nextId = 1;

  readonly #http: Server;

  private constructor(
    http: Server,
    wss: WebSocketServer,
    calls: ServedCalls,
    media: MediaManager,
    control: CallControl,
    private readonly log: Logger,
    autoAnswer: boolean,
  ) {
    this.#http = http;
    this.#wss = wss;
    const legacy = new LegacyClients(calls, media, log, autoAnswer);
    const json = new JsonClients(control);
    this.#protocols = [legacy, json];
    this.#open = [() => openSession(legacy), () => openSession(json)];
    this.#audioTexts = this.#protocols.map(() => undefined);
    wss.on('connection', (ws, req) => this.#connect(ws, new URL(req.url ?? '/', 'ws://relay').pathname));
    this.#subs.push(calls.events$.subscribe((e) => this.#onCallEvent(e)));
    this.#subs.push(media.packets$.subscribe((p) => this.#onAudio(p)));
    this.#subs.push(media.wantAudio((callId) => this.#wantsAudio(callId)));
    // ping/pong keepalive: a client that missed a whole interval is gone
    this.#ping = setInterval(() => {
      for (const c of this.#clients) {
        if (!c.alive) {
          this.log.info({ client: c.id }, 'WebSocket client did not answer ping: closed');
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
    }, 30_000);
    this.#ping.unref();
  }

  static start(
    opts: {
      host: string;
      port: number;
      autoAnswer: boolean;
      token?: string | undefined;
      origins?: readonly string[] | undefined;
      /** WS_MAX_CLIENTS: connections beyond it get 503. */
      maxClients?: number;
    },
    deps: {
      calls: ServedCalls;
      media: MediaManager;
      log: Logger;
      control: CallControl;
      /** Plain HTTP requests to /v1/... (the REST API); every other plain request gets 426 as before. */
      rest?: RequestListener;
    },
  ): Promise<WsServer> {
    let server: WsServer | undefined;
    return new Promise((resolve, reject) => {
      // timeouts, connection caps (in all and per source) and REST requests in flight: http-guard.ts
      const http = createServer(httpServerOptions(), (req, res) => {
        if (rest && (req.url ?? '/').startsWith('/v1/')) rest(req, res);
        else res.writeHead(426, { 'Content-Type': 'text/plain' }).end('Upgrade Required');
      });
      const { rest } = guardHttp(http, deps.rest, deps.log, {
        ...HTTP_LIMITS,
        maxConnections: Math.max(HTTP_LIMITS.maxConnections, (opts.maxClients ?? 50) + 64),
        // every WebSocket client may come from one application server
        maxPerSource: Math.max(HTTP_LIMITS.maxPerSource, opts.maxClients ?? 50),
      });
      const wss = new WebSocketServer({
        server: http,
        maxPayload: MAX_MESSAGE_BYTES,
        // a client that fails authentication gets 401 and nothing else
        verifyClient: (info, done) => {
          if (server && server.clients >= (opts.maxClients ?? 50)) {
            deps.log.warn({ max: opts.maxClients ?? 50 }, 'WebSocket client refused: WS_MAX_CLIENTS reached');
            done(false, 503, 'Service Unavailable');
            return;
          }
          const origin = info.origin;
          if (!originAllowed(origin, opts.origins)) {
            deps.log.warn({ origin }, 'WebSocket client from a refused Origin');
            done(false, 403, 'Forbidden');
            return;
          }
          if (opts.token && !presentsToken(info.req, opts.token)) {
            deps.log.warn(
              { address: info.req.socket.remoteAddress },
              'WebSocket client without a valid token',
            );
            done(false, 401, 'Unauthorized');
            return;
          }
          done(true);
        },
      });
      wss.on('error', (e) => deps.log.warn({ err: e.message }, 'WebSocket server error'));
      http.once('error', reject);
      http.listen(opts.port, opts.host, () => {
        http.off('error', reject);
        http.on('error', (e) => deps.log.warn({ err: e.message }, 'HTTP server error'));
        server = new WsServer(http, wss, deps.calls, deps.media, deps.control, deps.log, opts.autoAnswer);
        resolve(server);
      });
    });
  }

  get port(): number {
    const a = this.#http.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Per-client unsent bytes and dropped audio events (tests, metrics). */
  backlog(): Array<{ id: number; bytes: number; dropped: number }> {
    return [...this.#clients].map((c) => ({ id: c.id, bytes: c.ws.bufferedAmount, dropped: c.dropped }));
  }

  close(): Promise<void> {
    clearInterval(this.#ping);
    for (const s of this.#subs) s.unsubscribe();
    for (const c of this.#clients) c.ws.terminate();
    return new Promise((r) =>
      this.#wss.close(() => {
        this.#http.closeAllConnections();
        this.#http.close(() => r());
      }),
    );
  }

  #connect(ws: WebSocket, path: string): void {
    const kind = path === '/v1' ? 1 : 0;
    const protocol = this.#protocols[kind]!;
    const c: Client = {
      ws,
      id: this.#nextId++,
      protocol,
      kind,
      session: this.#open[kind]!(),
      alive: true,
      dropped: 0,
    };
    this.#clients.add(c);
    this.log.info({ client: c.id, mode: protocol.name }, 'WebSocket client connected');
    const reply = (text: string) => this.#send(c, text, false);
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) reply(protocol.binaryRefused());
      else c.session.command(data.toString(), reply, c.id);
    });
    ws.on('close', () => {
      this.#clients.delete(c);
      this.log.info({ client: c.id, dropped: c.dropped }, 'WebSocket client disconnected');
    });
    ws.on('error', (e) => this.log.warn({ client: c.id, err: e.message }, 'WebSocket client error'));
  }

  #onCallEvent(e: CallEvent): void {
    // every protocol sees every event (the legacy one keeps per-call state), clients or not
    const texts = this.#protocols.map((p) => p.event(e));
    for (const c of this.#clients) {
      const text = texts[c.kind];
      if (text) this.#send(c, text, false);
    }
    if (e.type === 'call.ended') for (const c of this.#clients) c.session.ended(e.callId);
  }

  /** More events for the clients whose protocol carries them (the AI call center's, for JSON clients). */
  publish(events$: Observable<{ readonly type: string; readonly callId: string }>): void {
    this.#subs.push(
      events$.subscribe((e) => {
        const texts = this.#protocols.map((p) => p.extra(e));
        for (const c of this.#clients) {
          const text = texts[c.kind];
          if (text) this.#send(c, text, false);
        }
      }),
    );
  }

  /** Set by the benchmark: time from an RTP packet's arrival to its frame handed to the socket (ms). */
  sendLatency: ((ms: number) => void) | undefined;

  #wantsAudio(callId: string): boolean {
    for (const c of this.#clients) if (c.session.wantsAudio(callId)) return true;
    return false;
  }

  #onAudio(p: AudioPacket): void {
    const t0 = this.sendLatency ? performance.now() : 0;
    const texts = this.#audioTexts;
    texts.fill(undefined);
    for (const c of this.#clients) {
      if (!c.session.wantsAudio(p.callId)) continue;
      let text = texts[c.kind];
      if (text === undefined) {
        text = c.protocol.audio(p);
        texts[c.kind] = text;
      }
      this.#send(c, text, true);
    }
    this.sendLatency?.(performance.now() - t0);
  }

  #send(c: Client, text: string, droppable: boolean): void {
    const backlog = c.ws.bufferedAmount;
    if (backlog > CLOSE_AT) {
      this.log.warn({ client: c.id, backlog }, 'WebSocket client too far behind: closed');
      c.ws.terminate();
      this.#clients.delete(c);
      return;
    }
    if (droppable && backlog > DROP_AUDIO_AT) {
      c.dropped++;
      return;
    }
    c.ws.send(text);
  }
}
