// Load generator for bench/media-load.bench.ts, run as its own process: places N calls to the relay over
// SIP (INVITE, ACK), streams PCMU RTP on every call at 20 ms from one absolute-deadline loop, counts the
// relay's packets per call (loss = sequence gaps), then sends BYE. Prints one JSON line of results.
// With a 4th argument (the relay's TLS port) the calls are SIP over one TLS connection with SDES-SRTP
// (AES_CM_128_HMAC_SHA1_80) both ways. The generator shares two cores with the relay it measures, so its
// own SRTP is kept out of the way: every call's packets are encrypted before the calls are placed, and one
// packet in ten from the relay is authenticated and decrypted (a failure is counted and reported); the
// others are counted from their clear RTP headers.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { connect as tlsConnect } from 'node:tls';
import { SrtpContext } from '../src/rtp/srtp.ts';
import { StreamFramer } from '../src/sip/transport/stream-framer.ts';

const [sipPort, calls, seconds, tlsPort] = process.argv.slice(2).map(Number) as [
  number,
  number,
  number,
  number?,
];
const srtp = tlsPort !== undefined && tlsPort > 0;
const sip = createSocket('udp4');
await new Promise<void>((r) => sip.bind(0, '127.0.0.1', () => r()));
const tls = srtp
  ? await new Promise<import('node:tls').TLSSocket>((r) => {
      const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () => r(s));
    })
  : undefined;
const me = tls ? tls.localPort! : sip.address().port;
const via = tls ? 'TLS' : 'UDP';
const target = tls ? `127.0.0.1:${tlsPort};transport=tls` : `127.0.0.1:${sipPort}`;
/** Sends SIP to the relay: over the TLS connection, or as a datagram. */
const sendSip = (text: string) => (tls ? tls.write(text) : sip.send(text, sipPort, '127.0.0.1'));

interface Call {
  id: string;
  rtp: Socket;
  relayPort?: number;
  toTag?: string;
  seq: number;
  ts: number;
  received: number;
  firstSeq?: number;
  maxSeq?: number;
  cycles: number;
  /** One buffer per call, rewritten each 20 ms: a loopback send has long completed by then. */
  pkt: Buffer;
  /** SRTP: our master key (in the offer) and, once answered, the contexts both ways. */
  key?: Buffer;
  rx?: SrtpContext;
  /** SRTP: every packet this call will send, encrypted ahead (SRTP_BYTES each, by sequence number). */
  stream?: Buffer;
}
const SRTP_BYTES = 12 + 160 + 10;
/** SRTP: packets from the relay authenticated and decrypted (one in ten), and those that failed. */
let verified = 0;
let authFailures = 0;
const byId = new Map<string, Call>();
const payload = new Uint8Array(160).fill(0x7e);

function invite(c: Call, port: number): string {
  const media = c.key
    ? `m=audio ${port} RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${c.key.toString('base64')}\r\n`
    : `m=audio ${port} RTP/AVP 0\r\n`;
  const sdp = `v=0\r\no=g 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n${media}a=rtpmap:0 PCMU/8000\r\n`;
  const contact = tls ? `<sip:gen@127.0.0.1:${me};transport=tls>` : `<sip:gen@127.0.0.1:${me}>`;
  return `INVITE sip:relay@${target} SIP/2.0\r\nVia: SIP/2.0/${via} 127.0.0.1:${me};branch=z9hG4bK-${c.id};rport\r\nMax-Forwards: 70\r\nFrom: <sip:gen@127.0.0.1>;tag=g${c.id}\r\nTo: <sip:relay@127.0.0.1>\r\nCall-ID: ${c.id}\r\nCSeq: 1 INVITE\r\nContact: ${contact}\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
}
function inDialog(c: Call, method: string, cseq: number, branch: string): string {
  return `${method} sip:relay@${target} SIP/2.0\r\nVia: SIP/2.0/${via} 127.0.0.1:${me};branch=${branch};rport\r\nMax-Forwards: 70\r\nFrom: <sip:gen@127.0.0.1>;tag=g${c.id}\r\nTo: <sip:relay@127.0.0.1>;tag=${c.toTag}\r\nCall-ID: ${c.id}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`;
}

/** Call i's RTP packet with this sequence number and timestamp, written into `pkt` (172 bytes). */
function rtpPacket(pkt: Buffer, seq: number, ts: number, i: number): void {
  pkt[0] = 0x80;
  pkt[1] = 0;
  pkt.writeUInt16BE(seq, 2);
  pkt.writeUInt32BE(ts >>> 0, 4);
  pkt.writeUInt32BE(0x1000 + i, 8);
  pkt.set(payload, 12);
}

/** Call i's whole stream (20 ms packets for the run, and a second more) in SRTP under our key. */
function encryptAhead(key: Buffer, i: number): Buffer {
  const tx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', { key: key.subarray(0, 16), salt: key.subarray(16) });
  const count = (seconds + 1) * 50;
  const stream = Buffer.alloc(count * SRTP_BYTES);
  for (let seq = 0; seq < count; seq++) {
    const at = seq * SRTP_BYTES;
    const room = stream.subarray(at, at + SRTP_BYTES);
    rtpPacket(room, seq, seq * 160, i);
    tx.protectRtpInPlace(room, 172);
  }
  return stream;
}

let answered = 0;
let ended = 0;
const onSip = (d: Uint8Array) => {
  const t = Buffer.from(d).toString('latin1');
  const status = Number(/^SIP\/2\.0 (\d{3})/.exec(t)?.[1]);
  const c = byId.get(/^Call-ID: (\S+)/im.exec(t)?.[1] ?? '');
  if (!c || !status) return;
  const method = /^CSeq: \d+ (\w+)/im.exec(t)?.[1];
  if (method === 'INVITE' && status === 200 && !c.toTag) {
    c.toTag = /^To:.*;tag=([^;\s]+)/im.exec(t)?.[1];
    c.relayPort = Number(/m=audio (\d+)/.exec(t)?.[1]);
    if (c.key) {
      const theirs = /a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:([A-Za-z0-9+/=]+)/.exec(t)?.[1];
      if (!theirs) throw new Error('the relay answered without SRTP');
      const k = Buffer.from(theirs, 'base64');
      c.rx = new SrtpContext('AES_CM_128_HMAC_SHA1_80', { key: k.subarray(0, 16), salt: k.subarray(16) });
    }
    c.rtp.connect(c.relayPort, '127.0.0.1');
    sendSip(inDialog(c, 'ACK', 1, `z9hG4bK-ack-${c.id}`));
    answered++;
  } else if (method === 'INVITE' && status === 200) {
    sendSip(inDialog(c, 'ACK', 1, `z9hG4bK-ack-${c.id}`)); // retransmitted 200
  } else if (method === 'BYE' && status === 200) ended++;
};
if (tls) {
  const framer = new StreamFramer();
  tls.on('data', (d: Buffer) => {
    for (const f of framer.push(d)) if (f.type === 'message') onSip(f.data);
  });
} else sip.on('message', onSip);

for (let i = 0; i < calls; i++) {
  const rtp = createSocket('udp4');
  await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
  const c: Call = {
    id: `gen-${process.pid}-${i}`,
    rtp,
    seq: 0,
    ts: 0,
    received: 0,
    cycles: 0,
    pkt: Buffer.alloc(172),
    ...(srtp ? { key: randomBytes(30) } : {}),
  };
  if (c.key) c.stream = encryptAhead(c.key, i);
  rtp.on('message', (wire) => {
    let d: Buffer | string = wire;
    if (c.rx && c.received % 10 === 0) {
      d = c.rx.unprotectRtpInPlace(wire);
      if (typeof d === 'string') authFailures++;
      else verified++;
    }
    if (typeof d === 'string' || d.length < 12 || d[1]! !== 0) return;
    const seq = d.readUInt16BE(2);
    c.received++;
    if (c.firstSeq === undefined) {
      c.firstSeq = seq;
      c.maxSeq = seq;
    } else if (((seq - c.maxSeq!) & 0xffff) < 0x8000) {
      if (seq < c.maxSeq!) c.cycles += 0x10000;
      c.maxSeq = seq;
    }
  });
  byId.set(c.id, c);
  const text = invite(c, rtp.address().port);
  sendSip(text);
  // a real UAC retransmits its INVITE (Timer A) until a response comes; over TLS the connection does
  const retransmit = setInterval(() => (c.toTag || tls ? clearInterval(retransmit) : sendSip(text)), 500);
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20)); // 2,500 INVITEs a second at most
}
for (let i = 0; i < 500 && answered < calls; i++) await new Promise((r) => setTimeout(r, 20));

// RTP: one loop on absolute deadlines; like independent phones, each call has its own phase (1 ms slots)
let sent = 0;
const cpu0 = process.cpuUsage();
const start = performance.now();
const list = [...byId.values()];
let tick = 0; // in 1 ms slots
await new Promise<void>((resolve) => {
  const loop = () => {
    const now = performance.now();
    while (start + tick <= now) {
      for (let i = tick % 20; i < list.length; i += 20) {
        const c = list[i]!;
        if (!c.relayPort) continue;
        if (c.stream) {
          if ((c.seq + 1) * SRTP_BYTES > c.stream.length) continue;
          c.rtp.send(c.stream, c.seq * SRTP_BYTES, SRTP_BYTES);
        } else {
          const pkt = c.pkt;
          rtpPacket(pkt, c.seq, c.ts, i);
          c.rtp.send(pkt);
        }
        c.seq = (c.seq + 1) & 0xffff;
        c.ts += 160;
        sent++;
      }
      tick++;
    }
    if (now - start >= seconds * 1000) return resolve();
    setTimeout(loop, Math.max(0, start + tick - performance.now()));
  };
  loop();
});
const cpu = process.cpuUsage(cpu0);
const genCpu = (cpu.user + cpu.system) / 1000 / (performance.now() - start); // share of one core
await new Promise((r) => setTimeout(r, 200)); // the relay's last frames
let expected = 0;
let received = 0;
for (const c of byId.values()) {
  if (c.firstSeq === undefined) continue;
  expected += c.cycles + c.maxSeq! - c.firstSeq + 1;
  received += c.received;
}
for (const c of byId.values()) if (c.toTag) sendSip(inDialog(c, 'BYE', 2, `z9hG4bK-bye-${c.id}`));
for (let i = 0; i < 250 && ended < answered; i++) await new Promise((r) => setTimeout(r, 20));
console.log(
  JSON.stringify({
    calls,
    answered,
    ended,
    sentToRelay: sent,
    fromRelayExpected: expected,
    fromRelayReceived: received,
    cpu: genCpu,
    ...(srtp ? { verified, authFailures } : {}),
  }),
);
process.exit(0);
