import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Subscription } from 'rxjs';
import { type WebSocket, WebSocketServer } from 'ws';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import type { Logger } from '../../sip/core/logger.ts';
import type { MediaManager } from '../media-manager.ts';
import { type LegacyCallState, legacyEvent, legacyRtp, parseLegacyCommand } from './legacy-protocol.ts';

/** Audio events are dropped first once a client has this much unsent; control events are not. */
const DROP_AUDIO_AT = 512 * 1024;
/** A client this far behind is closed (with a logged reason) rather than let memory grow. */
const CLOSE_AT = 8 * 1024 * 1024;

interface Client {
  readonly ws: WebSocket;
  readonly id: number;
  alive: boolean;
  dropped: number;
}

/**
 * The WebSocket server on WS_HOST:WS_PORT speaking the original text protocol on any path: every event goes
 * to every client, commands drive the calls, a bad command gets `ERROR:{reason}` and the connection stays.
 * Never blocks the engine on a client: each has a bounded backlog; audio is dropped first.
 */
export class WsServer {
  readonly #wss: WebSocketServer;
  readonly #clients = new Set<Client>();
  readonly #calls = new Map<string, LegacyCallState>();
  readonly #subs: Subscription[] = [];
  readonly #ping: NodeJS.Timeout;
  #nextId = 1;

  private constructor(
    wss: WebSocketServer,
    private readonly calls: CallManager,
    private readonly media: MediaManager,
    private readonly log: Logger,
    private readonly autoAnswer: boolean,
  ) {
    this.#wss = wss;
    wss.on('connection', (ws) => this.#connect(ws));
    this.#subs.push(calls.events$.subscribe((e) => this.#onCallEvent(e)));
    this.#subs.push(
      media.packets$.subscribe((p) => this.#broadcast(legacyRtp(p.payloadType, p.payload), true)),
    );
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
    },
    deps: { calls: CallManager; media: MediaManager; log: Logger },
  ): Promise<WsServer> {
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host: opts.host,
        port: opts.port,
        maxPayload: 16 * 1024 * 1024,
        // a client that fails authentication gets 401 and nothing else
        verifyClient: (info, done) => {
          const origin = info.origin;
          if (opts.origins && opts.origins.length > 0 && origin && !opts.origins.includes(origin)) {
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
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        wss.on('error', (e) => deps.log.warn({ err: e.message }, 'WebSocket server error'));
        resolve(new WsServer(wss, deps.calls, deps.media, deps.log, opts.autoAnswer));
      });
    });
  }

  get port(): number {
    const a = this.#wss.address();
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
    return new Promise((r) => this.#wss.close(() => r()));
  }

  #connect(ws: WebSocket): void {
    const c: Client = { ws, id: this.#nextId++, alive: true, dropped: 0 };
    this.#clients.add(c);
    this.log.info({ client: c.id }, 'WebSocket client connected');
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.#send(c, 'ERROR:binary frames are not supported: send text', false);
        return;
      }
      this.#command(c, data.toString());
    });
    ws.on('close', () => {
      this.#clients.delete(c);
      this.log.info({ client: c.id, dropped: c.dropped }, 'WebSocket client disconnected');
    });
    ws.on('error', (e) => this.log.warn({ client: c.id, err: e.message }, 'WebSocket client error'));
  }

  #onCallEvent(e: CallEvent): void {
    if (e.type === 'call.incoming') this.#calls.set(e.callId, { direction: 'incoming', answered: false });
    if (e.type === 'call.answered') {
      const s = this.#calls.get(e.callId) ?? { direction: e.direction, answered: false };
      s.answered = true;
      this.#calls.set(e.callId, s);
    }
    if (e.type === 'call.ringing' && !this.#calls.has(e.callId)) {
      this.#calls.set(e.callId, { direction: 'outgoing', answered: false });
    }
    const text = legacyEvent(e, this.#calls.get(e.callId) ?? { direction: 'outgoing', answered: false });
    if (e.type === 'call.ended') this.#calls.delete(e.callId);
    if (text) this.#broadcast(text, false);
  }

  #broadcast(text: string, droppable: boolean): void {
    for (const c of this.#clients) this.#send(c, text, droppable);
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

  #command(c: Client, text: string): void {
    const cmd = parseLegacyCommand(text);
    const reply = (t: string) => this.#send(c, t, false);
    if ('error' in cmd) {
      this.log.info({ client: c.id, error: cmd.error }, 'bad WebSocket command');
      reply(`ERROR:${cmd.error}`);
      return;
    }
    switch (cmd.kind) {
      case 'call':
        void this.calls.dial(cmd.number).then((r) => {
          if (!r.ok) reply(`CALL_FAILED:${r.status} ${r.reason}`);
        });
        return;
      case 'rtp': {
        const s = this.media.session(cmd.callId);
        if (!s) reply(`ERROR:unknown call ${cmd.callId}`);
        else s.queue.enqueue(cmd.pcm);
        return;
      }
      case 'hangup': {
        let id = cmd.callId;
        if (id === undefined) {
          const live = this.calls.list();
          if (live.length !== 1) {
            reply(`ERROR:${live.length === 0 ? 'no active call' : 'several active calls: name one'}`);
            return;
          }
          id = live[0]!.callId;
        }
        if (!this.calls.hangup(id)) reply(`ERROR:unknown call ${id}`);
        return;
      }
      case 'answer':
      case 'reject': {
        if (!this.calls.call(cmd.callId)) {
          reply(`ERROR:unknown call ${cmd.callId}`);
          return;
        }
        if (this.autoAnswer) return; // the original answered by itself: these are no-ops then
        const done = cmd.kind === 'answer' ? this.calls.answer(cmd.callId) : this.calls.reject(cmd.callId);
        if (!done) reply(`ERROR:call ${cmd.callId} is not ringing`);
        return;
      }
    }
  }
}

/** WS_TOKEN from `?token=` or `Authorization: Bearer`, compared in constant time. */
function presentsToken(req: IncomingMessage, token: string): boolean {
  const url = new URL(req.url ?? '/', 'ws://relay');
  const auth = req.headers.authorization;
  const given =
    url.searchParams.get('token') ?? (auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined);
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
