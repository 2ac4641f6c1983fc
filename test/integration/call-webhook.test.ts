import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { callWebhook } from '../../src/io/webhooks/call-webhook.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import type { CallFacts } from '../../src/routing/plan.ts';
import { type RouteDefaults, RouteTable } from '../../src/routing/router.ts';
import { routesFileSchema } from '../../src/routing/routes-schema.ts';

const facts: CallFacts = {
  callId: 'c1',
  requestUser: '1000',
  toUser: '1000',
  fromUser: 'alice',
  source: '127.0.0.1',
  headers: [],
};
const defaults = { autoAnswer: false, agent: {} } as unknown as RouteDefaults;

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

describe('call webhook client (real HTTP on 127.0.0.1)', () => {
  it('a kept-alive connection the app closes as we reuse it costs a second attempt, not the fallback', async () => {
    const perSocket = new WeakMap<object, number>();
    let answered = 0;
    server = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      // the second request on a connection: the app had closed it (its keep-alive ran out)
      if (n > 1) {
        req.socket.destroy();
        return;
      }
      answered++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"reject":486}');
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const table = new RouteTable(
      routesFileSchema.parse({ routes: [{ name: 'app', webhook: { url, timeoutMs: 2000 } }] }),
      defaults,
    );
    const ask = callWebhook(silentLogger, undefined);
    for (let i = 0; i < 3; i++)
      expect(await ask(table, 'app', facts, undefined)).toEqual({
        kind: 'reject',
        status: 486,
        route: 'app',
      });
    expect(answered).toBe(3);
  });
});
