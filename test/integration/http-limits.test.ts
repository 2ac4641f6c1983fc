import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { guardHttp, HTTP_LIMITS, type HttpLimits, httpServerOptions } from '../../src/io/ws/http-guard.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

/** A TCP connection to 127.0.0.1:port from `from` (any 127/8 address), open once connected. */
function open(port: number, from = '127.0.0.1'): Promise<Socket & { got: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', localAddress: from }) as Socket & { got: string };
    s.got = '';
    s.on('data', (d) => {
      s.got += d.toString('latin1');
    });
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** A bare server guarded as the relay's port is, with short limits. */
async function guarded(l: Partial<HttpLimits>) {
  const limits = { ...HTTP_LIMITS, ...l };
  const server = createServer(httpServerOptions(limits), (req, res) => rest?.(req, res));
  const handled: string[] = [];
  const { rest } = guardHttp(
    server,
    (req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        handled.push(body);
        res.writeHead(200).end('ok');
      });
    },
    silentLogger,
    limits,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    handled,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const slowPost = (s: Socket) =>
  s.write(
    'POST /v1/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"to":',
  );

describe('the WebSocket/REST port: timeouts and caps (http-guard)', () => {
  it('an idle connection is closed after headersTimeout, a trickled body after requestTimeout', async () => {
    const g = await guarded({ headersTimeoutMs: 300, requestTimeoutMs: 800 });
    try {
      const idle = await open(g.port);
      const slow = await open(g.port);
      slowPost(slow);
      const t0 = performance.now();
      await until(() => idle.closed, 5000);
      expect(slow.closed).toBe(false); // its headers came in time
      await until(() => slow.closed, 5000);
      expect(performance.now() - t0).toBeLessThan(4000);
      expect(slow.got).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await g.close();
    }
  });

  it('one address gets maxPerSource connections, others still get in; REST requests beyond maxRestInFlight get 503', async () => {
    const g = await guarded({ maxPerSource: 3, maxRestInFlight: 2 });
    const sockets: Array<Awaited<ReturnType<typeof open>>> = [];
    try {
      for (let i = 0; i < 5; i++) sockets.push(await open(g.port, '127.0.0.2'));
      await until(() => sockets.filter((s) => s.closed).length === 2, 3000);
      expect(sockets.slice(0, 3).every((s) => !s.closed)).toBe(true);
      // two bodies on their way hold the two REST slots; a third request is refused at once
      slowPost(sockets[0]!);
      slowPost(sockets[1]!);
      await new Promise((r) => setTimeout(r, 100));
      const third = await open(g.port, '127.0.0.1');
      third.write('POST /v1/calls HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
      await until(() => third.got.length > 0, 3000);
      expect(third.got).toMatch(/^HTTP\/1\.1 503/);
      expect(third.got).toMatch(/at most 2 REST requests at once/);
      // once one finishes, the next is taken
      sockets[0]!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const fourth = await open(g.port, '127.0.0.1');
      fourth.write('POST /v1/calls HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
      await until(() => fourth.got.length > 0, 3000);
      expect(fourth.got).toMatch(/^HTTP\/1\.1 200/);
      third.destroy();
      fourth.destroy();
    } finally {
      for (const s of sockets) s.destroy();
      await g.close();
    }
  });

  it('on the relay: 40 idle connections from one address leave 32 open (WS_MAX_CLIENTS 20), and the REST API still answers others', async () => {
    const relay = await startTestRelay({
      WS_MAX_CLIENTS: '20',
      RTP_PORT_START: '45250',
      RTP_PORT_END: '45299',
    });
    const sockets: Array<Awaited<ReturnType<typeof open>>> = [];
    try {
      for (let i = 0; i < 40; i++) sockets.push(await open(relay.ws.port, '127.0.0.2'));
      await until(() => sockets.filter((s) => s.closed).length === 8, 3000);
      const res = await fetch(`http://127.0.0.1:${relay.ws.port}/v1/calls`);
      expect(res.status).toBe(200);
    } finally {
      for (const s of sockets) s.destroy();
      await relay.close();
    }
  });
});
