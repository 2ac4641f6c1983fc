import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/relay.ts';
import { StreamFramer } from '../../src/sip/transport/stream-framer.ts';
import { OFFER } from '../helpers/call-harness.ts';
import { hasOpenssl, makeCerts } from '../helpers/certs.ts';
import { requestText } from '../helpers/messages.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { UdpPeer } from '../helpers/udp-client.ts';

describe.skipIf(!hasOpenssl)('SIP over TLS: the listener', () => {
  let relay: Relay;
  let certs: ReturnType<typeof makeCerts>;
  beforeAll(async () => {
    certs = makeCerts();
    relay = await startTestRelay({
      SIP_TRANSPORTS: 'udp,tcp,tls',
      SIP_TLS_PORT: '0',
      SIP_TLS_CERT: certs.server.cert,
      SIP_TLS_KEY: certs.server.key,
      RTP_PORT_START: '41000',
      RTP_PORT_END: '41099',
    });
  });
  afterAll(async () => {
    await relay.close();
  });
  const tlsPort = () => relay.transports.tls!.address().port;

  it('a client that verifies our certificate (CA, IP SAN) gets its OPTIONS answered over TLS; TLS 1.1 is refused', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort(), ca: readFileSync(certs.ca) });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    expect(socket.authorized).toBe(true);
    const framer = new StreamFramer();
    const got: string[] = [];
    socket.on('data', (d: Buffer) => {
      for (const f of framer.push(d)) if (f.type === 'message') got.push(new TextDecoder().decode(f.data));
    });
    socket.write(
      requestText({ method: 'OPTIONS', sentBy: `127.0.0.1:${socket.localPort}` }).replace(
        'SIP/2.0/UDP',
        'SIP/2.0/TLS',
      ),
    );
    const deadline = performance.now() + 3000;
    while (got.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(got[0]).toMatch(/^SIP\/2\.0 200 OK/);
    expect(got[0]).toMatch(/^Via: SIP\/2\.0\/TLS /m);
    socket.destroy();

    const old = tlsConnect({
      host: '127.0.0.1',
      port: tlsPort(),
      ca: readFileSync(certs.ca),
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
    });
    const outcome = await new Promise<string>((resolve) => {
      old.once('secureConnect', () => resolve('connected'));
      old.once('error', (e) => resolve(`refused: ${(e as NodeJS.ErrnoException).code}`));
    });
    old.destroy();
    expect(outcome).toMatch(/^refused/);
  });

  it('plain text and garbage on the TLS port close that socket only; UDP OPTIONS still answered under 200 ms', async () => {
    const junk = [
      requestText({ method: 'OPTIONS' }),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    ];
    const closed = junk.map(
      (data) =>
        new Promise<boolean>((resolve) => {
          const s = netConnect({ host: '127.0.0.1', port: tlsPort() }, () => s.write(data));
          s.on('error', () => {});
          s.on('close', () => resolve(true));
          setTimeout(() => resolve(false), 3000);
        }),
    );
    const udp = await UdpPeer.open();
    try {
      const t0 = performance.now();
      await udp.send(
        Buffer.from(
          requestText({
            method: 'OPTIONS',
            branch: 'z9hG4bK-tlsprobe',
            sentBy: `127.0.0.1:${udp.port}`,
          }).replace('sip:relay@127.0.0.1:5062', `sip:relay@127.0.0.1:${relay.sip.port}`),
        ),
        relay.sip.port,
      );
      expect((await udp.waitFor('z9hG4bK-tlsprobe', 2000))?.status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(1000); // a stalled relay would not answer at all
    } finally {
      await udp.close();
    }
    expect(await Promise.all(closed)).toEqual([true, true]);
    const deadline = performance.now() + 2000;
    while (relay.transports.tls!.connections > 0 && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(relay.transports.tls!.connections).toBe(0);
  });

  it('a call to a sips: URI is answered with a sips: Contact (RFC 3261 12.1.1); a sip: one with transport=tls', async () => {
    const contactFor = async (scheme: 'sip' | 'sips', callId: string) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort(), ca: readFileSync(certs.ca) });
      await new Promise<void>((r) => socket.once('secureConnect', () => r()));
      const framer = new StreamFramer();
      const got: string[] = [];
      socket.on('data', (d: Buffer) => {
        for (const f of framer.push(d)) if (f.type === 'message') got.push(new TextDecoder().decode(f.data));
      });
      socket.write(
        requestText({
          callId,
          sentBy: `127.0.0.1:${socket.localPort}`,
          contact: `<${scheme}:alice@127.0.0.1:${socket.localPort}${scheme === 'sip' ? ';transport=tls' : ''}>`,
          body: OFFER(),
          extra: ['Content-Type: application/sdp'],
        })
          .replace('SIP/2.0/UDP', 'SIP/2.0/TLS')
          .replace('INVITE sip:relay@127.0.0.1:5062', `INVITE ${scheme}:relay@127.0.0.1:${tlsPort()}`),
      );
      const deadline = performance.now() + 3000;
      while (!got.some((m) => m.startsWith('SIP/2.0 200')) && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 5));
      socket.destroy();
      relay.calls.hangup(callId);
      return /^Contact: (.*)$/m.exec(got.find((m) => m.startsWith('SIP/2.0 200')) ?? '')?.[1];
    };
    expect(await contactFor('sips', 'tls-sips-1')).toBe(`<sips:relay@127.0.0.1:${tlsPort()}>`);
    expect(await contactFor('sip', 'tls-sip-1')).toBe(`<sip:relay@127.0.0.1:${tlsPort()};transport=tls>`);
  });
});

describe.skipIf(!hasOpenssl)('SIP over TLS: half-open handshakes from one address', () => {
  it('hold at most SIP_TCP_MAX_PER_SOURCE slots, share SIP_TCP_MAX_CONNECTIONS with TCP, and go after the handshake timeout', async () => {
    const certs = makeCerts();
    const relay = await startTestRelay({
      SIP_TRANSPORTS: 'udp,tcp,tls',
      SIP_TLS_PORT: '0',
      SIP_TLS_CERT: certs.server.cert,
      SIP_TLS_KEY: certs.server.key,
      SIP_TCP_MAX_PER_SOURCE: '20',
      SIP_TCP_MAX_CONNECTIONS: '30',
      RTP_PORT_START: '41100',
      RTP_PORT_END: '41149',
    });
    /** A raw TCP connection that never says anything (no ClientHello): resolves whether it was closed. */
    const raw = (port: number, from: string) => {
      const s = netConnect({ host: '127.0.0.1', port, localAddress: from });
      s.on('error', () => {});
      const state = { closed: false, at: 0 };
      s.on('close', () => {
        state.closed = true;
        state.at = performance.now();
      });
      return { s, state };
    };
    const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
    try {
      const tlsPort = relay.transports.tls!.address().port;
      const t0 = performance.now();
      const halfOpen = Array.from({ length: 25 }, () => raw(tlsPort, '127.0.0.2'));
      await settle(300);
      expect(halfOpen.filter((h) => h.state.closed)).toHaveLength(5); // 20 held from that address
      // TCP from another address fills what is left of the shared 30
      const tcp = Array.from({ length: 11 }, () => raw(relay.sip.port, '127.0.0.3'));
      await settle(300);
      expect(tcp.filter((h) => h.state.closed)).toHaveLength(1);
      // the handshake timeout (5 s) frees the TLS slots
      const deadline = performance.now() + 9000;
      while (halfOpen.some((h) => !h.state.closed) && performance.now() < deadline) await settle(50);
      expect(halfOpen.every((h) => h.state.closed)).toBe(true);
      expect(Math.max(...halfOpen.map((h) => h.state.at)) - t0).toBeLessThan(8000);
      // and a real TLS client gets in
      const socket = tlsConnect({ host: '127.0.0.1', port: tlsPort, ca: readFileSync(certs.ca) });
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', () => resolve());
        socket.once('error', reject);
      });
      socket.destroy();
      for (const h of tcp) h.s.destroy();
    } finally {
      await relay.close();
    }
  }, 20_000);
});
