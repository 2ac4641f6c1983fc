import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { Subject } from 'rxjs';
import { isPong, nextPingMs, PING, PONG, unansweredPing } from '../../sip/transport/keep-alive.ts';
import { StreamFramer } from '../../sip/transport/stream-framer.ts';
import { ConnectionBudget } from '../connection-budget.ts';

/** A SIP message that came on a TCP/TLS connection. */
export interface StreamMessage {
  readonly data: Uint8Array;
  readonly address: string;
  readonly port: number;
  readonly transport: 'tcp' | 'tls';
  /** The connection: responses and in-dialog requests are sent back on it while it is open. */
  readonly flow: number;
}

/** A message that could not be delimited: the core answers it (400/513) and the connection closes. */
export interface StreamRejection extends Omit<StreamMessage, 'data'> {
  readonly head: Uint8Array;
  readonly status: number;
  readonly reason: string;
}

/** Told when a connection of ours cannot be made (refused, timed out, a certificate that does not verify). */
export type ConnectFailure = (dest: { host: string; port: number }, error: Error) => void;

/** Told when a connection of ours stopped answering keep-alives (RFC 5626 4.4.1) and was closed. */
export type FlowFailure = (dest: { host: string; port: number }) => void;

export interface StreamLimits {
  /**
   * Connections open at once, inbound and outbound, over TCP and TLS together (SIP_TCP_MAX_CONNECTIONS);
   * more are refused.
   */
  readonly maxConnections: number;
  /** Connections from (or to) one address at once (SIP_TCP_MAX_PER_SOURCE); a TLS handshake counts. */
  readonly maxPerSource: number;
  /** A connection with no traffic either way for this long is closed (SIP_TCP_IDLE_S). */
  readonly idleMs: number;
  /** A message that has started must be complete within this long (slow senders hold memory). */
  readonly partialMs: number;
  /** Bytes queued to a peer that does not read; beyond it the connection is dropped. */
  readonly maxQueuedBytes: number;
  /** How long connecting to a peer may take. */
  readonly connectMs: number;
  /**
   * RFC 5626 4.4.1: on connections we open, a double-CRLF ping every 95/120 to 120/120 of this long,
   * at random (0: none; SIP_TCP_KEEPALIVE_S). Pings do not count as traffic for `idleMs`.
   */
  readonly keepAliveMs: number;
  /** A ping unanswered this long means the flow has failed: it is closed. */
  readonly pongMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxConnections: 1000,
  maxPerSource: 100,
  idleMs: 300_000,
  partialMs: 30_000,
  maxQueuedBytes: 1024 * 1024,
  connectMs: 5000,
  keepAliveMs: 120_000,
  pongMs: 10_000,
};

/** How a connection of ours is opened (plain TCP here; TLS passes its own). */
export type Connector = (host: string, port: number) => Socket;

/** How an accepted socket is set up (TLS wraps it); resolves once it can carry SIP. */
export interface StreamFlavour {
  readonly transport: 'tcp' | 'tls';
  /** The listening server (net.Server or tls.Server). */
  server(onSocket: (s: Socket) => void): Server;
  connect: Connector;
  /** The event after which an outbound socket may be written to. */
  readonly readyEvent: 'connect' | 'secureConnect';
}

interface Conn {
  readonly id: number;
  readonly socket: Socket;
  readonly framer: StreamFramer;
  readonly remote: { address: string; port: number };
  /** Outbound: the key we opened it under ("host port"). */
  readonly key?: string;
  ready: Promise<void>;
  idle: NodeJS.Timeout | undefined;
  partial: NodeJS.Timeout | undefined;
  /** Outbound: the next keep-alive ping, and the wait for its pong. */
  keepAlive?: NodeJS.Timeout | undefined;
  pongWait?: NodeJS.Timeout | undefined;
  /** The peer has answered a ping with a pong: it does RFC 5626, and a ping it leaves unanswered counts. */
  pongs?: boolean;
  closing: boolean;
}

let nextFlow = 1;

export const plainTcp: StreamFlavour = {
  transport: 'tcp',
  server: (onSocket) => createServer({ noDelay: true }, onSocket),
  connect: (host, port) => tcpConnect({ host, port, noDelay: true }),
  readyEvent: 'connect',
};

/**
 * SIP over a stream transport (TCP, or TLS through its flavour): a listener, the connections it accepts
 * and the ones we open, each cut into messages by the stream framer. Every connection is bounded: a
 * partial message at most 64 KiB and `partialMs` long, `idleMs` without traffic, `maxQueuedBytes` unsent,
 * `maxConnections` in all. A connection is reused by id (a flow) or by the address we opened it to.
 */
export class SipStreamAdapter {
  readonly messages$ = new Subject<StreamMessage>();
  readonly rejections$ = new Subject<StreamRejection>();
  readonly #server: Server;
  readonly #flavour: StreamFlavour;
  readonly #limits: StreamLimits;
  readonly #conns = new Map<number, Conn>();
  readonly #outbound = new Map<string, Conn>();
  readonly #budget: ConnectionBudget;
  #onRefused: (source: string, why: 'total' | 'source') => void = () => {};
  #onConnectFailure: ConnectFailure = () => {};
  #onFlowFailure: FlowFailure = () => {};
  /** RFC 5626 keep-alives on our connections: pings sent, and those answered in time. */
  readonly keepAlives = { sent: 0, answered: 0 };

  private constructor(
    server: Server,
    flavour: StreamFlavour,
    limits: StreamLimits,
    budget: ConnectionBudget,
  ) {
    this.#server = server;
    this.#flavour = flavour;
    this.#limits = limits;
    this.#budget = budget;
  }

  static listen(
    host: string,
    port: number,
    opts: {
      flavour?: StreamFlavour;
      limits?: Partial<StreamLimits>;
      onError?: (e: Error) => void;
      onConnectFailure?: ConnectFailure;
      onFlowFailure?: FlowFailure;
      /** Told of each connection refused by the budget (over the total, or over its source's share). */
      onRefused?: (source: string, why: 'total' | 'source') => void;
      /** Shared with the other stream listener (TCP and TLS count together); default: this one's own. */
      budget?: ConnectionBudget;
    } = {},
  ): Promise<SipStreamAdapter> {
    const flavour = opts.flavour ?? plainTcp;
    const limits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
    const budget = opts.budget ?? new ConnectionBudget(limits.maxConnections, limits.maxPerSource);
    return new Promise((resolve, reject) => {
      let adapter: SipStreamAdapter | undefined;
      const server = flavour.server((socket) => {
        if (adapter) adapter.#accept(socket);
        else socket.destroy();
      });
      // every raw connection takes its slot before anything else (a TLS handshake included): one source
      // cannot hold the slots of all, and a socket refused costs nothing more
      budget.guard(server, (source, why) => {
        if (adapter) adapter.#onRefused(source, why);
      });
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        adapter = new SipStreamAdapter(server, flavour, limits, budget);
        if (opts.onRefused) adapter.#onRefused = opts.onRefused;
        if (opts.onConnectFailure) adapter.#onConnectFailure = opts.onConnectFailure;
        if (opts.onFlowFailure) adapter.#onFlowFailure = opts.onFlowFailure;
        const onError = opts.onError ?? (() => {});
        server.on('error', onError);
        resolve(adapter);
      });
    });
  }

  get transport(): 'tcp' | 'tls' {
    return this.#flavour.transport;
  }

  address(): { address: string; port: number } {
    const a = this.#server.address();
    return typeof a === 'object' && a ? { address: a.address, port: a.port } : { address: '', port: 0 };
  }

  /** Open connections (both directions). */
  get connections(): number {
    return this.#conns.size;
  }

  /** Bytes held for unfinished messages, over every connection. */
  get buffered(): number {
    let n = 0;
    for (const c of this.#conns.values()) n += c.framer.buffered;
    return n;
  }

  /**
   * Sends a message: on connection `flow` while it is open, else on a connection we opened to host:port
   * before, else on a new one. Rejects when none can be had (the transaction reports a transport error).
   */
  async send(
    bytes: Uint8Array,
    dest: { host: string; port: number; flow?: number | undefined },
  ): Promise<void> {
    let conn = dest.flow === undefined ? undefined : this.#conns.get(dest.flow);
    if (conn?.closing) conn = undefined;
    conn ??= this.#outbound.get(`${dest.host} ${dest.port}`);
    if (conn?.closing) conn = undefined;
    conn ??= this.#open(dest.host, dest.port);
    await conn.ready;
    if (!this.#write(conn, bytes)) throw new Error('SIP connection not reading: dropped');
  }

  /** Sends and then closes the connection (after a framing error's answer). */
  closeFlow(flow: number): void {
    const c = this.#conns.get(flow);
    if (!c) return;
    c.closing = true;
    c.socket.end();
    // a peer that does not read what is left cannot keep the socket
    setTimeout(() => c.socket.destroy(), 2000).unref();
  }

  close(): Promise<void> {
    for (const c of this.#conns.values()) c.socket.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const remote = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    this.#track(socket, remote, undefined, Promise.resolve());
  }

  #open(host: string, port: number): Conn {
    const refused = this.#budget.take(host);
    if (refused)
      throw new Error(
        refused === 'total'
          ? `too many SIP connections (SIP_TCP_MAX_CONNECTIONS=${this.#limits.maxConnections})`
          : `too many SIP connections to ${host} (SIP_TCP_MAX_PER_SOURCE=${this.#limits.maxPerSource})`,
      );
    const socket = this.#flavour.connect(host, port);
    socket.once('close', () => this.#budget.release(host));
    const key = `${host} ${port}`;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        const e = new Error(`connecting to ${host}:${port} timed out`);
        this.#onConnectFailure({ host, port }, e);
        reject(e);
      }, this.#limits.connectMs);
      socket.once(this.#flavour.readyEvent, () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        this.#onConnectFailure({ host, port }, e);
        reject(e);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error(`connection to ${host}:${port} closed`));
      });
    });
    ready.catch(() => {}); // the sender sees the rejection; this keeps it from being "unhandled"
    const conn = this.#track(socket, { address: host, port }, key, ready);
    this.#outbound.set(key, conn);
    ready.then(
      () => this.#armKeepAlive(conn),
      () => {},
    );
    return conn;
  }

  /** RFC 5626 keep-alives on our own connections (sip/transport/keep-alive.ts): a peer keeps its own. */
  #armKeepAlive(conn: Conn): void {
    const every = this.#limits.keepAliveMs;
    if (every <= 0 || conn.closing) return;
    conn.keepAlive = setTimeout(() => this.#ping(conn), nextPingMs(every, Math.random()));
    conn.keepAlive.unref();
  }

  #ping(conn: Conn): void {
    conn.keepAlive = undefined;
    if (conn.closing || conn.socket.destroyed) return;
    if (conn.socket.writableLength + PING.length > this.#limits.maxQueuedBytes) {
      conn.socket.destroy();
      return;
    }
    conn.socket.write(PING); // not #write: a ping is not traffic that keeps an unused connection open
    this.keepAlives.sent++;
    conn.pongWait = setTimeout(() => {
      conn.pongWait = undefined;
      if (unansweredPing(!!conn.pongs) === 'ping again') return this.#armKeepAlive(conn);
      // gone before anyone is told: what they send next opens a new connection
      conn.closing = true;
      conn.socket.destroy();
      this.#forget(conn);
      this.#onFlowFailure({ host: conn.remote.address, port: conn.remote.port });
    }, this.#limits.pongMs);
    conn.pongWait.unref();
  }

  #track(socket: Socket, remote: Conn['remote'], key: string | undefined, ready: Promise<void>): Conn {
    const conn: Conn = {
      id: nextFlow++,
      socket,
      framer: new StreamFramer(),
      remote,
      ...(key ? { key } : {}),
      ready,
      idle: undefined,
      partial: undefined,
      closing: false,
    };
    this.#conns.set(conn.id, conn);
    this.#touch(conn);
    socket.on('data', (chunk: Buffer) => this.#data(conn, chunk));
    socket.on('error', () => {}); // 'close' follows and cleans up
    socket.on('close', () => this.#forget(conn));
    return conn;
  }

  #data(conn: Conn, chunk: Buffer): void {
    if (conn.closing) return;
    this.#touch(conn);
    if (conn.pongWait) {
      // the pong (a single CRLF), or anything else: the flow is alive
      clearTimeout(conn.pongWait);
      conn.pongWait = undefined;
      if (isPong(chunk)) {
        conn.pongs = true;
        this.keepAlives.answered++;
      }
      this.#armKeepAlive(conn);
    }
    const source = {
      address: conn.remote.address,
      port: conn.remote.port,
      transport: this.#flavour.transport,
      flow: conn.id,
    };
    for (const f of conn.framer.push(chunk)) {
      if (f.type === 'message') this.messages$.next({ ...source, data: f.data });
      else if (f.type === 'ping') this.#write(conn, PONG);
      else {
        // answered by the core on this connection (its write is queued in a microtask), which then closes:
        // the stream cannot be resynchronised
        this.rejections$.next({ ...source, head: f.head, status: f.status, reason: f.reason });
        setImmediate(() => this.closeFlow(conn.id));
        return;
      }
    }
    // a message under way must finish in time
    if (conn.framer.buffered > 0 && !conn.partial)
      conn.partial = setTimeout(() => conn.socket.destroy(), this.#limits.partialMs);
    else if (conn.framer.buffered === 0 && conn.partial) {
      clearTimeout(conn.partial);
      conn.partial = undefined;
    }
  }

  /** False when the peer does not read and the connection was dropped (it cannot hold our memory). */
  #write(conn: Conn, bytes: Uint8Array): boolean {
    if (conn.socket.writableLength + bytes.length > this.#limits.maxQueuedBytes) {
      conn.socket.destroy();
      return false;
    }
    this.#touch(conn);
    conn.socket.write(bytes);
    return true;
  }

  #touch(conn: Conn): void {
    if (conn.idle) conn.idle.refresh();
    else {
      conn.idle = setTimeout(() => conn.socket.destroy(), this.#limits.idleMs);
      conn.idle.unref();
    }
  }

  #forget(conn: Conn): void {
    if (conn.idle) clearTimeout(conn.idle);
    if (conn.partial) clearTimeout(conn.partial);
    if (conn.keepAlive) clearTimeout(conn.keepAlive);
    if (conn.pongWait) clearTimeout(conn.pongWait);
    this.#conns.delete(conn.id);
    if (conn.key && this.#outbound.get(conn.key) === conn) this.#outbound.delete(conn.key);
  }
}
