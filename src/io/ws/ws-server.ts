import type { Observable, Subscription } from 'rxjs';
import { type WebSocket, WebSocketServer } from 'ws';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import { decodeG711 } from '../../media/g711.ts';
import type { PlayoutQueue } from '../../media/playout-queue.ts';
import { narrowbandInSlices } from '../../media/stream-resampler.ts';
import type { Logger } from '../../sip/core/logger.ts';
import type { MediaManager } from '../media-manager.ts';
import { originAllowed, presentsToken } from './access.ts';
import { type JsonReply, jsonEvent, parseJsonCommand } from './json-protocol.ts';
import { type LegacyCallState, legacyEvent, legacyRtp, parseLegacyCommand } from './legacy-protocol.ts';
import { CLOSE_AT, DROP_AUDIO_AT, MAX_MESSAGE_BYTES } from './limits.ts';

interface Client {
  readonly ws: WebSocket;
  readonly id: number;
  /** `/v1` speaks the typed JSON protocol; any other path the original text protocol. */
  readonly mode: 'legacy' | 'json';
  /** JSON clients: the calls whose audio they asked for ('*' = all). */
  readonly audio: Set<string>;
  alive: boolean;
  dropped: number;
}

/**
 * The WebSocket server on WS_HOST:WS_PORT: the typed JSON protocol on /v1, the original text protocol on any
 * other path. Every event goes
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
  /** Plays being resampled, per call queue: the next one waits for them. */
  readonly #playing = new WeakMap<PlayoutQueue, Promise<void>>();

  private constructor(
    wss: WebSocketServer,
    private readonly calls: CallManager,
    private readonly media: MediaManager,
    private readonly log: Logger,
    private readonly autoAnswer: boolean,
  ) {
    this.#wss = wss;
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
    deps: { calls: CallManager; media: MediaManager; log: Logger },
  ): Promise<WsServer> {
    let server: WsServer | undefined;
    return new Promise((resolve, reject) => {
      const wss = new WebSocketServer({
        host: opts.host,
        port: opts.port,
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
      wss.once('error', reject);
      wss.once('listening', () => {
        wss.off('error', reject);
        wss.on('error', (e) => deps.log.warn({ err: e.message }, 'WebSocket server error'));
        server = new WsServer(wss, deps.calls, deps.media, deps.log, opts.autoAnswer);
        resolve(server);
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

  #connect(ws: WebSocket, path: string): void {
    const mode = path === '/v1' ? 'json' : 'legacy';
    const c: Client = { ws, id: this.#nextId++, mode, audio: new Set(), alive: true, dropped: 0 };
    this.#clients.add(c);
    this.log.info({ client: c.id, mode }, 'WebSocket client connected');
    ws.on('pong', () => {
      c.alive = true;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const msg = 'binary frames are not supported: send text';
        this.#send(
          c,
          c.mode === 'json'
            ? JSON.stringify({ type: 'error', code: 'binary', message: msg })
            : `ERROR:${msg}`,
          false,
        );
        return;
      }
      if (c.mode === 'json') this.#jsonCommand(c, data.toString());
      else this.#command(c, data.toString());
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
    const json = JSON.stringify(jsonEvent(e));
    for (const c of this.#clients) {
      if (c.mode === 'json') this.#send(c, json, false);
      else if (text) this.#send(c, text, false);
    }
    if (e.type === 'call.ended') for (const c of this.#clients) c.audio.delete(e.callId);
  }

  /** More events for JSON clients (the AI call center's transcripts, replies, barge-ins and errors). */
  publish(events$: Observable<{ readonly type: string; readonly callId: string }>): void {
    this.#subs.push(
      events$.subscribe((e) => {
        const json = JSON.stringify(e);
        for (const c of this.#clients) if (c.mode === 'json') this.#send(c, json, false);
      }),
    );
  }

  /** Set by the benchmark: time from an RTP packet's arrival to its frame handed to the socket (ms). */
  sendLatency: ((ms: number) => void) | undefined;

  /** Legacy clients get every call's audio; JSON clients the calls they asked for. */
  #wantsAudio(callId: string): boolean {
    for (const c of this.#clients)
      if (c.mode === 'legacy' || c.audio.has('*') || c.audio.has(callId)) return true;
    return false;
  }

  #onAudio(p: { callId: string; payloadType: number; payload: Uint8Array }): void {
    const t0 = this.sendLatency ? performance.now() : 0;
    let legacy: string | undefined;
    let json: string | undefined;
    for (const c of this.#clients) {
      if (c.mode === 'legacy') {
        legacy ??= legacyRtp(p.payloadType, p.payload);
        this.#send(c, legacy, true);
      } else if (c.audio.has('*') || c.audio.has(p.callId)) {
        json ??= JSON.stringify({
          type: 'call.audio',
          callId: p.callId,
          format: p.payloadType === 8 ? 'pcma' : 'pcmu',
          payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength).toString(
            'base64',
          ),
        });
        this.#send(c, json, true);
      }
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

  #jsonCommand(c: Client, text: string): void {
    const parsed = parseJsonCommand(text);
    const reply = (r: JsonReply) => this.#send(c, JSON.stringify(r), false);
    if (!parsed.ok) {
      reply(parsed.reply);
      return;
    }
    const cmd = parsed.command;
    const rid = cmd.id === undefined ? {} : { id: cmd.id };
    const fail = (code: string, message: string) => reply({ type: 'error', ...rid, code, message });
    const ack = (extra: { callId?: string } = {}) => reply({ type: 'ack', ...rid, ...extra });
    if (cmd.type === 'call.dial') {
      void this.calls
        .dial(cmd.number)
        .then((r) => (r.ok ? ack({ callId: r.callId }) : fail('dial_failed', `${r.status} ${r.reason}`)));
      return;
    }
    if (cmd.type === 'call.subscribe') {
      if (cmd.audio) c.audio.add(cmd.callId);
      else c.audio.delete(cmd.callId);
      ack();
      return;
    }
    const call = this.calls.call(cmd.callId);
    if (!call) {
      fail('unknown_call', `no call ${cmd.callId}`);
      return;
    }
    switch (cmd.type) {
      case 'call.answer':
        return void (this.calls.answer(cmd.callId)
          ? ack()
          : fail('invalid_state', `call is ${call.state}, not ringing`));
      case 'call.reject':
        return void (this.calls.reject(cmd.callId, cmd.status)
          ? ack()
          : fail('invalid_state', `call is ${call.state}, not ringing`));
      case 'call.hangup':
        return void (this.calls.hangup(cmd.callId) ? ack() : fail('invalid_state', 'call already ended'));
      default:
        break;
    }
    const session = this.media.session(cmd.callId);
    if (!session) {
      fail('no_media', 'the call has no media yet');
      return;
    }
    if (cmd.type === 'call.clear') {
      session.queue.clear();
      ack();
    } else if (cmd.type === 'call.dtmf') {
      if (session.sendDtmf(cmd.digits)) ack();
      else fail('no_dtmf', 'the peer did not offer telephone-event');
    } else if (cmd.type === 'call.play') {
      if (cmd.format !== 'l16' && cmd.sampleRate !== 8000) {
        fail('bad_audio', 'G.711 is 8000 Hz');
        return;
      }
      // the cap is checked on the message's length, before any decoding or resampling is done
      const bytes = Math.floor((cmd.audio.length * 3) / 4);
      const ms = ((cmd.format === 'l16' ? bytes / 2 : bytes) / cmd.sampleRate) * 1000;
      if (!session.queue.fits(ms)) {
        fail('queue_full', queueFull(session.queue));
        return;
      }
      const raw = Buffer.from(cmd.audio, 'base64');
      if (cmd.format !== 'l16') {
        session.queue.enqueue(decodeG711(cmd.format === 'pcma' ? 'PCMA' : 'PCMU', raw));
        ack();
        return;
      }
      if (raw.length % 2 !== 0) {
        fail('bad_audio', 'odd byte count: l16 is 16-bit PCM');
        return;
      }
      if (cmd.sampleRate === 8000) {
        const pcm = new Int16Array(raw.length / 2);
        for (let i = 0; i < pcm.length; i++) pcm[i] = raw.readInt16LE(i * 2);
        session.queue.enqueue(pcm);
        ack();
        return;
      }
      // resampled a slice at a time, yielding between slices: other calls' RTP and SIP go on meanwhile;
      // plays for one call queue in the order they came
      const before = this.#playing.get(session.queue) ?? Promise.resolve();
      const done = before
        .then(() => narrowbandInSlices(raw, cmd.sampleRate, yieldToLoop))
        .then((out) => {
          session.queue.enqueue(out);
          ack();
        });
      this.#playing.set(session.queue, done);
      void done.finally(() => {
        if (this.#playing.get(session.queue) === done) this.#playing.delete(session.queue);
      });
    }
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
        else if (!s.queue.fits(cmd.pcm.length / 8)) reply(`ERROR:${queueFull(s.queue)}`);
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

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

function queueFull(q: PlayoutQueue): string {
  const limit = Math.round(q.limitMs / 1000);
  return `audio queue full: ${Math.round(q.queuedMs / 1000)} s queued, at most ${limit} s per call (MAX_QUEUED_AUDIO_S)`;
}
