// Load generator for bench/media-load.bench.ts, run as its own process: places N calls to the relay over
// SIP (INVITE, ACK), streams PCMU RTP on every call at 20 ms from one absolute-deadline loop, counts the
// relay's packets per call (loss = sequence gaps), then sends BYE. Prints one JSON line of results.
import { createSocket, type Socket } from 'node:dgram';

const [sipPort, calls, seconds] = process.argv.slice(2).map(Number) as [number, number, number];
const sip = createSocket('udp4');
await new Promise<void>((r) => sip.bind(0, '127.0.0.1', () => r()));
const me = sip.address().port;

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
}
const byId = new Map<string, Call>();
const payload = new Uint8Array(160).fill(0x7e);

function invite(c: Call, port: number): string {
  const sdp = `v=0\r\no=g 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
  return `INVITE sip:relay@127.0.0.1:${sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${me};branch=z9hG4bK-${c.id};rport\r\nMax-Forwards: 70\r\nFrom: <sip:gen@127.0.0.1>;tag=g${c.id}\r\nTo: <sip:relay@127.0.0.1>\r\nCall-ID: ${c.id}\r\nCSeq: 1 INVITE\r\nContact: <sip:gen@127.0.0.1:${me}>\r\nContent-Type: application/sdp\r\nContent-Length: ${sdp.length}\r\n\r\n${sdp}`;
}
function inDialog(c: Call, method: string, cseq: number, branch: string): string {
  return `${method} sip:relay@127.0.0.1:${sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${me};branch=${branch};rport\r\nMax-Forwards: 70\r\nFrom: <sip:gen@127.0.0.1>;tag=g${c.id}\r\nTo: <sip:relay@127.0.0.1>;tag=${c.toTag}\r\nCall-ID: ${c.id}\r\nCSeq: ${cseq} ${method}\r\nContent-Length: 0\r\n\r\n`;
}

let answered = 0;
let ended = 0;
sip.on('message', (d) => {
  const t = d.toString('latin1');
  const status = Number(/^SIP\/2\.0 (\d{3})/.exec(t)?.[1]);
  const c = byId.get(/^Call-ID: (\S+)/im.exec(t)?.[1] ?? '');
  if (!c || !status) return;
  const method = /^CSeq: \d+ (\w+)/im.exec(t)?.[1];
  if (method === 'INVITE' && status === 200 && !c.toTag) {
    c.toTag = /^To:.*;tag=([^;\s]+)/im.exec(t)?.[1];
    c.relayPort = Number(/m=audio (\d+)/.exec(t)?.[1]);
    c.rtp.connect(c.relayPort, '127.0.0.1');
    sip.send(inDialog(c, 'ACK', 1, `z9hG4bK-ack-${c.id}`), sipPort, '127.0.0.1');
    answered++;
  } else if (method === 'INVITE' && status === 200) {
    sip.send(inDialog(c, 'ACK', 1, `z9hG4bK-ack-${c.id}`), sipPort, '127.0.0.1'); // retransmitted 200
  } else if (method === 'BYE' && status === 200) ended++;
});

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
  };
  rtp.on('message', (d) => {
    if (d.length < 12 || d[1]! !== 0) return;
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
  sip.send(text, sipPort, '127.0.0.1');
  // a real UAC retransmits its INVITE (Timer A) until a response comes
  const retransmit = setInterval(
    () => (c.toTag ? clearInterval(retransmit) : sip.send(text, sipPort, '127.0.0.1')),
    500,
  );
  if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20)); // 2,500 INVITEs a second at most
}
for (let i = 0; i < 500 && answered < calls; i++) await new Promise((r) => setTimeout(r, 20));

// RTP: one loop on absolute deadlines; like independent phones, each call has its own phase (1 ms slots)
const header = new Uint8Array(12);
header[0] = 0x80;
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
        const pkt = c.pkt;
        pkt.set(header);
        pkt.writeUInt16BE(c.seq, 2);
        pkt.writeUInt32BE(c.ts >>> 0, 4);
        pkt.writeUInt32BE(0x1000 + i, 8);
        pkt.set(payload, 12);
        c.rtp.send(pkt);
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
for (const c of byId.values())
  if (c.toTag) sip.send(inDialog(c, 'BYE', 2, `z9hG4bK-bye-${c.id}`), sipPort, '127.0.0.1');
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
  }),
);
process.exit(0);
