import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestText } from '../helpers/messages.ts';
import { until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { UdpPeer } from '../helpers/udp-client.ts';

/** An HTTP server on loopback answering every request with `answer`; counts what it got. */
async function server(answer: (res: import('node:http').ServerResponse) => void) {
  let got = 0;
  const s: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      got++;
      answer(res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`,
    got: () => got,
    close: () =>
      new Promise<void>((r) => {
        s.closeAllConnections();
        s.close(() => r());
      }),
  };
}

describe('webhooks never follow redirects', () => {
  it('a 307 from the call webhook is its fallback (480), and the other host hears nothing', async () => {
    const elsewhere = await server((res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"clients":{"answer":true}}'),
    );
    const app = await server((res) => res.writeHead(307, { location: elsewhere.url }).end());
    const relay = await startTestRelay({
      CALL_WEBHOOK_URL: app.url,
      WEBHOOK_SECRET: 'redirect-secret-for-tests',
      RTP_PORT_START: '45000',
      RTP_PORT_END: '45049',
    });
    const peer = await UdpPeer.open();
    try {
      await peer.send(
        Buffer.from(
          requestText({
            ruri: `sip:4930123@127.0.0.1:${relay.sip.port}`,
            sentBy: `127.0.0.1:${peer.port}`,
            branch: 'z9hG4bK-redirect-1',
            callId: 'redirect-1',
          }),
        ),
        relay.sip.port,
      );
      const final = await peer.waitFor('z9hG4bK-redirect-1', 5000);
      expect(final?.status).toBe(480);
      expect(app.got()).toBe(1);
      expect(elsewhere.got()).toBe(0);
    } finally {
      await peer.close();
      await relay.close();
      await app.close();
      await elsewhere.close();
    }
  });

  it('a 302 from the status callback receiver drops the event (counted), nothing is re-POSTed elsewhere', async () => {
    const elsewhere = await server((res) => res.writeHead(200).end());
    const receiver = await server((res) => res.writeHead(302, { location: elsewhere.url }).end());
    const relay = await startTestRelay({
      EVENTS_WEBHOOK_URL: receiver.url,
      EVENTS_SPOOL_DIR: join(mkdtempSync(join(tmpdir(), 'redirect-spool-')), 'spool'),
      RTP_PORT_START: '45000',
      RTP_PORT_END: '45049',
    });
    try {
      relay.status!.publish({ type: 'call.answered', callId: 'x', direction: 'incoming' });
      await until(() => relay.status!.counts.dropped === 1, 5000);
      expect(receiver.got()).toBe(1);
      expect(elsewhere.got()).toBe(0);
      expect(relay.status!.spooled).toBe(0);
    } finally {
      await relay.close();
      await receiver.close();
      await elsewhere.close();
    }
  });
});
