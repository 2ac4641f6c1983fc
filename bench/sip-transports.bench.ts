// SIP over UDP, TCP and TLS through the whole relay (npm start's code in a child process): OPTIONS in,
// 200 out, with 32 requests in flight, for BENCH_TRANSPORT_SECONDS each; TCP and TLS on one connection.
// The peer is UDP, measured in the same run (ratios TCP/UDP, TLS/UDP). Then TLS handshakes per second
// (4 at a time, each connection closed once its handshake is done).
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { StreamFramer } from '../src/sip/transport/stream-framer.ts';
import { makeCerts } from '../test/helpers/certs.ts';
import { requestText } from '../test/helpers/messages.ts';
import { freeSipPort } from '../test/helpers/peers.ts';
import { fmt } from './measure.ts';
import { startRelayChild } from './relay-child.ts';

const SECONDS = Number(process.env.BENCH_TRANSPORT_SECONDS ?? 5);
const WINDOW = 32;

const options = (port: number, transport: string, local: number, n: number) =>
  requestText({
    method: 'OPTIONS',
    branch: `z9hG4bK-b${n}`,
    sentBy: `127.0.0.1:${local}`,
    callId: `bench-${n}`,
  })
    .replace('SIP/2.0/UDP', `SIP/2.0/${transport}`)
    .replace('sip:relay@127.0.0.1:5062', `sip:relay@127.0.0.1:${port}`);

/** Requests answered per second with WINDOW in flight: `send(n)` sends one, `onAnswer` is told of each 200. */
async function closedLoop(send: (n: number) => void, onAnswer: (cb: () => void) => void): Promise<number> {
  let n = 0;
  let answered = 0;
  let counting = false;
  onAnswer(() => {
    if (counting) answered++;
    send(n++);
  });
  for (let i = 0; i < WINDOW; i++) send(n++);
  await new Promise((r) => setTimeout(r, 1000)); // warm up
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  counting = false;
  return answered / ((performance.now() - t0) / 1000);
}

async function overUdp(port: number): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const local = s.address().port;
  const rate = await closedLoop(
    (n) => s.send(options(port, 'UDP', local, n), port, '127.0.0.1'),
    (cb) => s.on('message', (m) => m.subarray(0, 12).toString() === 'SIP/2.0 200 ' && cb()),
  );
  s.close();
  return rate;
}

async function overStream(socket: Socket, port: number, transport: string): Promise<number> {
  const framer = new StreamFramer();
  const rate = await closedLoop(
    (n) => socket.write(options(port, transport, socket.localPort ?? 0, n)),
    (cb) =>
      socket.on('data', (d: Buffer) => {
        for (const f of framer.push(d)) if (f.type === 'message') cb();
      }),
  );
  socket.destroy();
  return rate;
}

async function handshakes(port: number, ca: string): Promise<number> {
  let done = 0;
  let running = true;
  const one = async () => {
    while (running) {
      await new Promise<void>((r) => {
        const s = tlsConnect({ host: '127.0.0.1', port, ca }, () => {
          done++;
          s.destroy();
          r();
        });
        s.on('error', () => r());
      });
    }
  };
  const t0 = performance.now();
  const workers = [one(), one(), one(), one()];
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  running = false;
  await Promise.all(workers);
  return done / ((performance.now() - t0) / 1000);
}

export async function runSipTransportsBench(): Promise<void> {
  const certs = makeCerts();
  const port = await freeSipPort();
  const tlsPort = await freeSipPort();
  const relay = await startRelayChild(
    {
      SIP_LOCAL_PORT: String(port),
      SIP_TRANSPORTS: 'udp,tcp,tls',
      SIP_TLS_PORT: String(tlsPort),
      SIP_TLS_CERT: certs.server.cert,
      SIP_TLS_KEY: certs.server.key,
      SIP_SOURCE_LIMIT_MB: '4096',
    },
    'bench-transports',
  );
  try {
    const udp = await overUdp(port);
    const tcpSocket = await new Promise<Socket>((r) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => r(s));
    });
    const tcp = await overStream(tcpSocket, port, 'TCP');
    const ca = readFileSync(certs.ca, 'utf8');
    const tlsSocket = await new Promise<Socket>((r) => {
      const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, ca }, () => r(s));
    });
    const tls = await overStream(tlsSocket, tlsPort, 'TLS');
    const hs = await handshakes(tlsPort, ca);
    console.log(
      `\nSIP transports: OPTIONS -> 200 through the whole relay (a child process), ${WINDOW} in flight, ${SECONDS} s each`,
    );
    console.log('  transport   requests/s   vs UDP');
    console.log(`  UDP         ${fmt(udp).padStart(10)}     1.00`);
    console.log(`  TCP         ${fmt(tcp).padStart(10)}     ${(tcp / udp).toFixed(2)}`);
    console.log(`  TLS         ${fmt(tls).padStart(10)}     ${(tls / udp).toFixed(2)}`);
    console.log(`  TLS handshakes (EC P-256, TLS 1.3, 4 at a time): ${fmt(hs)}/s`);
  } finally {
    await relay.stop();
  }
}
