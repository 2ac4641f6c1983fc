import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SipStreamAdapter } from '../../src/io/sip/stream.adapter.ts';
import { until } from '../helpers/peers.ts';

const OPTIONS =
  'OPTIONS sip:peer@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bK-ka\r\nCall-ID: ka\r\n' +
  'CSeq: 1 OPTIONS\r\nFrom: <sip:r@127.0.0.1>;tag=1\r\nTo: <sip:peer@127.0.0.1>\r\nMax-Forwards: 70\r\n' +
  'Content-Length: 0\r\n\r\n';

/** A TCP peer on 127.0.0.1 that records what it reads and answers the first `pongs` pings. */
async function peer(pongs: number) {
  const got: { at: number; bytes: string }[] = [];
  const sockets: Socket[] = [];
  let closed = 0;
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => {
      got.push({ at: performance.now(), bytes: d.toString('latin1') });
      if (d.toString('latin1') === '\r\n\r\n' && pongs-- > 0) s.write('\r\n');
    });
    s.on('close', () => closed++);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    got,
    pings: () => got.filter((g) => g.bytes === '\r\n\r\n'),
    closed: () => closed,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

const cleanup: (() => unknown)[] = [];

/**
 * A peer answering its first `pongs` pings, our adapter with these keep-alive limits, and one OPTIONS sent to
 * the peer (which opens our connection): what the test watches.
 */
async function flowTo(pongs: number, limits: { keepAliveMs: number; pongMs?: number }) {
  const p = await peer(pongs);
  cleanup.push(p.close);
  const failures: { host: string; port: number }[] = [];
  const adapter = await SipStreamAdapter.listen('127.0.0.1', 0, {
    limits,
    onFlowFailure: (d) => failures.push(d),
  });
  cleanup.push(() => adapter.close());
  const sendOptions = () =>
    adapter.send(new TextEncoder().encode(OPTIONS), { host: '127.0.0.1', port: p.port });
  const t0 = performance.now();
  await sendOptions();
  return { p, adapter, failures, t0, sendOptions };
}
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('RFC 5626 keep-alives on the connections we open', () => {
  it('pings an idle flow with a double CRLF (every 95/120 to 120/120 of the interval); a peer that answers keeps it', async () => {
    const { p, adapter, failures, t0 } = await flowTo(Number.POSITIVE_INFINITY, {
      keepAliveMs: 300,
      pongMs: 200,
    });
    await until(() => p.pings().length >= 3, 3000);
    expect(p.pings().length).toBeGreaterThanOrEqual(3);
    const [first, second] = p.pings();
    expect(first!.at - t0).toBeGreaterThanOrEqual(230); // 95/120 of 300 ms, a little clock slack
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(230);
    expect(p.closed()).toBe(0);
    expect(adapter.connections).toBe(1);
    expect(failures).toEqual([]);
    expect(adapter.keepAlives.answered).toBeGreaterThanOrEqual(2);
  });

  it('a flow whose peer stops answering is failed after the pong wait: closed and reported', async () => {
    const { p, failures, sendOptions } = await flowTo(1, { keepAliveMs: 200, pongMs: 250 });
    await until(() => p.pings().length === 2, 2000);
    const pingedAt = performance.now();
    await until(() => p.closed() === 1, 2000);
    expect(p.closed()).toBe(1);
    expect(performance.now() - pingedAt).toBeGreaterThanOrEqual(200);
    expect(failures).toEqual([{ host: '127.0.0.1', port: p.port }]);
    expect(p.pings()).toHaveLength(2);
    // the next message opens a new connection
    await sendOptions();
    await until(() => p.got.filter((g) => g.bytes.startsWith('OPTIONS')).length === 2, 2000);
    expect(p.got.filter((g) => g.bytes.startsWith('OPTIONS'))).toHaveLength(2);
  });

  it('a peer that never answers a ping (RFC 3261 only) is not failed: the pings go on', async () => {
    const { p, adapter, failures } = await flowTo(0, { keepAliveMs: 150, pongMs: 100 });
    await until(() => p.pings().length >= 3, 3000);
    expect(p.pings().length).toBeGreaterThanOrEqual(3);
    expect([p.closed(), failures, adapter.keepAlives.answered]).toEqual([0, [], 0]);
  });

  it('SIP_TCP_KEEPALIVE_S=0: no pings', async () => {
    const { p } = await flowTo(Number.POSITIVE_INFINITY, { keepAliveMs: 0 });
    await new Promise((r) => setTimeout(r, 500));
    expect(p.pings()).toEqual([]);
  });
});
