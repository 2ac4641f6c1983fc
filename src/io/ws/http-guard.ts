import type { RequestListener, Server } from 'node:http';
import { LogLimiter } from '../../kernel/log-limiter.ts';
import type { Logger } from '../../kernel/logger.ts';
import { ConnectionBudget } from '../connection-budget.ts';

/**
 * What the WebSocket/REST port lets strangers hold (README, Security). Without these, 300 connections
 * trickling 4 MiB bodies held 1.38 GB and 3,000 idle connections stayed open 55 s, until new calls found no
 * file descriptor for their RTP ports.
 */
export interface HttpLimits {
  /** Connections open at once on the port (WebSocket clients included; WS_MAX_CLIENTS bounds those). */
  readonly maxConnections: number;
  /** Connections from one address at once: one source cannot take the port from everyone else. */
  readonly maxPerSource: number;
  /** REST requests being received or handled at once (each body up to MAX_MESSAGE_BYTES); beyond: 503. */
  readonly maxRestInFlight: number;
  /** A request's headers must be complete this long after the connection opened (idle sockets included). */
  readonly headersTimeoutMs: number;
  /** A whole request, body included, must arrive within this (slow bodies). */
  readonly requestTimeoutMs: number;
  /** A kept-alive connection with no request is closed after this. */
  readonly keepAliveTimeoutMs: number;
}

export const HTTP_LIMITS: HttpLimits = {
  maxConnections: 256,
  maxPerSource: 32,
  maxRestInFlight: 16,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
};

/** Options for node:http's createServer that enforce the timeouts (checked every second). */
export function httpServerOptions(l: HttpLimits = HTTP_LIMITS) {
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, l.headersTimeoutMs),
  };
}

/**
 * Caps the server's connections, in all and per source address (a connection beyond either is closed at
 * once, logged at most once a minute), and returns `rest` wrapped so that at most maxRestInFlight requests
 * are taken at once (the rest get 503 with Retry-After and the connection closed, their bodies unread).
 */
export function guardHttp(
  server: Server,
  rest: RequestListener | undefined,
  log: Logger,
  l: HttpLimits = HTTP_LIMITS,
): { rest: RequestListener | undefined; stats: { refusedConnections: number; refusedRequests: number } } {
  const stats = { refusedConnections: 0, refusedRequests: 0 };
  const budget = new ConnectionBudget(l.maxConnections, l.maxPerSource);
  const limiter = new LogLimiter(60_000);
  budget.guard(server, (source, refused) => {
    stats.refusedConnections++;
    limiter.hit((suppressed) =>
      log.warn(
        { source, open: budget.open, fromSource: budget.of(source), suppressed },
        `HTTP/WebSocket connection refused: ${refused === 'total' ? `${l.maxConnections} open` : `${l.maxPerSource} from this address`}`,
      ),
    );
  });
  if (!rest) return { rest, stats };
  let inFlight = 0;
  const guarded: RequestListener = (req, res) => {
    if (inFlight >= l.maxRestInFlight) {
      stats.refusedRequests++;
      res.shouldKeepAlive = false;
      res
        .writeHead(503, {
          'content-type': 'application/problem+json',
          'retry-after': '1',
          connection: 'close',
        })
        .end(
          JSON.stringify({
            type: 'urn:sip-relay:problem:busy',
            title: 'Service Unavailable',
            status: 503,
            detail: `at most ${l.maxRestInFlight} REST requests at once`,
            code: 'busy',
          }),
        );
      req.socket.destroySoon?.();
      return;
    }
    inFlight++;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      inFlight--;
    };
    res.once('close', finish);
    res.once('finish', finish);
    rest(req, res);
  };
  return { rest: guarded, stats };
}
