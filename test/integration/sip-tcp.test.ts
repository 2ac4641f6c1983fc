import { afterEach, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import type { Relay } from '../../src/relay.ts';
import { OFFER } from '../helpers/call-harness.ts';
import { requestText } from '../helpers/messages.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { TcpPeer } from '../helpers/tcp-client.ts';
import { UdpPeer } from '../helpers/udp-client.ts';

let relay: Relay | undefined;
const peers: TcpPeer[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.close();
  await relay?.close();
  relay = undefined;
});

async function setup(env: Record<string, string> = {}) {
  relay = await startTestRelay({ RTP_PORT_START: '40700', RTP_PORT_END: '40799', ...env });
  const events: CallEvent[] = [];
  relay.calls.events$.subscribe((e) => events.push(e));
  const open = async (from?: string) => {
    const p = await TcpPeer.open(relay!.sip.port, '127.0.0.1', from);
    peers.push(p);
    return p;
  };
  return { relay, events, open };
}

/** A request as a phone on `peer` sends it over TCP (its Via names TCP and its listening port). */
const tcpRequest = (peer: TcpPeer, o: Parameters<typeof requestText>[0] = {}) =>
  requestText({
    ...o,
    sentBy: `127.0.0.1:${peer.localPort}`,
    contact: `<sip:alice@127.0.0.1:${peer.localPort};transport=tcp>`,
  })
    .replace('SIP/2.0/UDP', 'SIP/2.0/TCP')
    .replace('sip:relay@127.0.0.1:5062', `sip:relay@127.0.0.1:${relay!.sip.port}`);

describe('SIP over TCP (RFC 3261 18.3, 18.2.2; RFC 5626 keep-alives)', () => {
  it('UDP and TCP share SIP_LOCAL_PORT; an OPTIONS over TCP is answered on the same connection', async () => {
    const { open } = await setup();
    const p = await open();
    p.write(tcpRequest(p, { method: 'OPTIONS' }));
    const ok = await p.waitFor(/^SIP\/2\.0 200/);
    expect(ok).toMatch(
      /^Via: SIP\/2\.0\/TCP 127\.0\.0\.1:\d+;branch=z9hG4bK-test-1;rport=\d+;received=127\.0\.0\.1/m,
    );
    expect(ok).toMatch(/^Content-Length: 0/m);
  });

  it('two messages in one segment, and one message a byte at a time, are both answered', async () => {
    const { open } = await setup();
    const p = await open();
    p.write(
      tcpRequest(p, { method: 'OPTIONS', branch: 'z9hG4bK-a' }) +
        tcpRequest(p, { method: 'OPTIONS', branch: 'z9hG4bK-b' }),
    );
    await p.waitFor(/branch=z9hG4bK-b/);
    await p.waitFor(/branch=z9hG4bK-a/);
    for (const b of Buffer.from(tcpRequest(p, { method: 'OPTIONS', branch: 'z9hG4bK-c' })))
      p.write(Uint8Array.of(b));
    await p.waitFor(/branch=z9hG4bK-c/);
  });

  it('a double-CRLF ping gets a CRLF pong', async () => {
    const { open } = await setup();
    const p = await open();
    p.write('\r\n\r\n');
    const deadline = performance.now() + 2000;
    while (Buffer.concat(p.raw).toString() !== '\r\n' && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    expect(Buffer.concat(p.raw).toString()).toBe('\r\n');
    expect(p.closed).toBe(false);
  });

  it('no Content-Length: 400, then the connection closes; a 10 MB one: 513, closed at once', async () => {
    const { open } = await setup();
    const p = await open();
    p.write(tcpRequest(p, { method: 'OPTIONS' }).replace('Content-Length: 0\r\n', ''));
    expect(await p.waitFor(/^SIP\/2\.0 400/)).toMatch(/Content-Length is required on a stream/);
    await p.waitClosed();
    const q = await open();
    q.write(tcpRequest(q, { method: 'OPTIONS' }).replace('Content-Length: 0', 'Content-Length: 10485760'));
    expect(await q.waitFor(/^SIP\/2\.0 513/)).toBeTruthy();
    await q.waitClosed();
  });

  it('a call over TCP: our Contact says transport=tcp, and our BYE comes back on the same connection', async () => {
    const { relay, open, events } = await setup();
    const p = await open();
    const callId = 'tcp-call-1';
    p.write(tcpRequest(p, { callId, body: OFFER(), extra: ['Content-Type: application/sdp'] }));
    const ok = await p.waitFor(/^SIP\/2\.0 200/);
    expect(ok).toMatch(
      new RegExp(`^Contact: <sip:relay@127\\.0\\.0\\.1:${relay.sip.port};transport=tcp>`, 'm'),
    );
    const toTag = /^To:.*;tag=([^;\s]+)/m.exec(ok)![1]!;
    p.write(tcpRequest(p, { method: 'ACK', callId, toTag, branch: 'z9hG4bK-ack' }));
    await new Promise((r) => setTimeout(r, 50));
    expect(relay.calls.call(callId)?.state).toBe('established');
    expect(relay.calls.hangup(callId)).toBe(true);
    const bye = await p.waitFor(/^BYE /);
    expect(bye).toMatch(/^Via: SIP\/2\.0\/TCP /m);
    expect(bye).toMatch(new RegExp(`^BYE sip:alice@127\\.0\\.0\\.1:${p.localPort};transport=tcp SIP/2\\.0`));
    const byeVia = /^Via: (.*)$/m.exec(bye)![1]!;
    const cseq = /^CSeq: (.*)$/m.exec(bye)![1]!;
    const from = /^From: (.*)$/m.exec(bye)![1]!;
    const to = /^To: (.*)$/m.exec(bye)![1]!;
    p.write(
      `SIP/2.0 200 OK\r\nVia: ${byeVia}\r\nFrom: ${from}\r\nTo: ${to}\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\nContent-Length: 0\r\n\r\n`,
    );
    await new Promise((r) => setTimeout(r, 100));
    expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'local-hangup' });
    expect(relay.calls.size).toBe(0);
  });

  it('hostile: 1,000 connections (100 from each of 10 addresses) each stalled half-way through a message; UDP OPTIONS still answered at once', async () => {
    const { relay, open } = await setup();
    const half = tcpRequest({ localPort: 1 } as TcpPeer, { method: 'OPTIONS' }).slice(0, 150);
    const stalled: TcpPeer[] = [];
    for (let i = 0; i < 1000; i++) {
      const p = await open(`127.0.0.${10 + (i % 10)}`);
      p.write(half);
      stalled.push(p);
    }
    const udp = await UdpPeer.open();
    try {
      const t0 = performance.now();
      await udp.send(
        Buffer.from(
          requestText({ method: 'OPTIONS', branch: 'z9hG4bK-udp', sentBy: `127.0.0.1:${udp.port}` }).replace(
            'sip:relay@127.0.0.1:5062',
            `sip:relay@127.0.0.1:${relay.sip.port}`,
          ),
        ),
        relay.sip.port,
      );
      const r = await udp.waitFor('z9hG4bK-udp', 2000);
      expect(r?.status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(1000); // a stalled relay would not answer at all
      const tcp = relay.transports.tcp!;
      expect(tcp.connections).toBe(1000);
      expect(tcp.buffered).toBeLessThanOrEqual(1000 * 150);
    } finally {
      await udp.close();
    }
    for (const p of stalled) p.close();
    const deadline = performance.now() + 3000;
    while (relay.transports.tcp!.connections > 0 && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect([relay.transports.tcp!.connections, relay.transports.tcp!.buffered]).toEqual([0, 0]);
  }, 30_000);

  it('one address gets SIP_TCP_MAX_PER_SOURCE connections, others still get in; the total is SIP_TCP_MAX_CONNECTIONS', async () => {
    const { open } = await setup({ SIP_TCP_MAX_PER_SOURCE: '5', SIP_TCP_MAX_CONNECTIONS: '8' });
    const from2: TcpPeer[] = [];
    for (let i = 0; i < 8; i++) from2.push(await open('127.0.0.2'));
    const until = async (done: () => boolean) => {
      const end = performance.now() + 3000;
      while (!done() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => from2.filter((p) => p.closed).length === 3);
    expect(from2.map((p) => p.closed)).toEqual([false, false, false, false, false, true, true, true]);
    // another address still gets in, and is answered
    const other = await open('127.0.0.3');
    other.write(tcpRequest(other, { method: 'OPTIONS', branch: 'z9hG4bK-other' }));
    expect(await other.waitFor(/^SIP\/2\.0 200/)).toMatch(/z9hG4bK-other/);
    // the total: 5 + 1 open, two more fit, the third is refused whatever its address
    const more = [await open('127.0.0.4'), await open('127.0.0.5'), await open('127.0.0.6')];
    await until(() => more[2]!.closed);
    expect(more.map((p) => p.closed)).toEqual([false, false, true]);
  });
});
