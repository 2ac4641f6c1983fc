import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MediaSession } from '../../../src/io/media/media-session.ts';
import type { MediaOptions } from '../../../src/io/media/media-types.ts';
import { WavRecorder } from '../../../src/io/media/recording.ts';
import type { RtpScheduler } from '../../../src/io/media/rtp-scheduler.ts';
import { silentLogger } from '../../../src/kernel/logger.ts';
import { encodeG711 } from '../../../src/media/g711.ts';
import { encodeTelephoneEvent } from '../../../src/rtp/dtmf.ts';
import { buildRtp } from '../../../src/rtp/packet.ts';
import { buildReport, ntpMiddle, ntpTime, parseReports } from '../../../src/rtp/rtcp.ts';
import { masterKeyOf, ourSrtp, type SrtpSuite } from '../../../src/rtp/srtp.ts';

/**
 * A byte-for-byte record of what one media session puts on the wire and on disk, driven on a manual
 * clock through a greeting, RFC 4733 digits out and in, music on hold, a stall (overdue ticks), a talkspurt
 * started between ticks and RTCP both ways. The refactor of the media path must leave every byte as it is:
 * `test/fixtures/media-session.txt` was written before it (UPDATE_MEDIA_FIXTURE=1 writes it again, which
 * is a behaviour change to explain in its commit).
 */
const FIXTURE = join(import.meta.dirname, '../../fixtures/media-session.txt');
const PEER = { address: '127.0.0.1', port: 40_000 };
const PEER_KEY = Uint8Array.from({ length: 30 }, (_, i) => 255 - i * 3);

/** A small deterministic generator (mulberry32): the session's SSRC, sequence and timestamp come from it. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tone = (n: number, hz: number, amp: number): Int16Array =>
  Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / 8000)));

const tmp = mkdtempSync(join(tmpdir(), 'media-fixture-'));
const sockets: Socket[] = [];
afterAll(() => {
  for (const s of sockets) s.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function bound(): Promise<Socket> {
  const s = createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** Wraps a real socket's send: every datagram's bytes are written down as they leave (then sent for real). */
function recording(s: Socket, kind: string, lines: string[]): void {
  const send = s.send.bind(s) as (...a: unknown[]) => void;
  (s as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
    const buf = a[0] as Uint8Array;
    const [off, len, port] =
      typeof a[1] === 'number' && typeof a[2] === 'number' && typeof a[3] === 'number'
        ? [a[1], a[2], a[3]]
        : [0, buf.length, a[1] as number];
    lines.push(`${kind} ${port} ${Buffer.from(buf.subarray(off, off + len)).toString('hex')}`);
    // every datagram goes to a closed port on loopback: the bytes are what matter, not their arrival
    send(...a);
  };
}

async function run(srtp?: SrtpSuite): Promise<string> {
  const lines: string[] = [];
  const [rtp, rtcp] = await Promise.all([bound(), bound()]);
  recording(rtp, 'rtp', lines);
  recording(rtcp, 'rtcp', lines);
  let now = 1_000;
  const scheduler = { add() {}, remove() {}, poll() {} } as unknown as RtpScheduler;
  const recorder = new WavRecorder(tmp, 'fixture-call', { stereo: true, at: new Date(0) });
  const dtmf: string[] = [];
  const frames = createHash('sha256');
  const heard = createHash('sha256');
  const options: MediaOptions = {
    codec: 'PCMU',
    remote: PEER,
    dtmfPayloadType: 101,
    sendSilence: true,
    symmetric: true,
    jitterMs: 40,
    signalling: '127.0.0.1',
    srtp: srtp && {
      suite: srtp,
      local: Uint8Array.from({ length: 30 }, (_, i) => i * 7 + 1),
      remote: PEER_KEY,
    },
  };
  const session = new MediaSession({
    callId: 'fixture-call',
    socket: rtp,
    rtcpSocket: rtcp,
    options,
    scheduler,
    recorder,
    log: silentLogger,
    onDtmf: (d) => dtmf.push(d),
    now: () => now,
    tickClock: () => now,
    wallOrigin: 1_800_000_000_000,
    random: seeded(25),
  });
  session.onFrame = (f) => frames.update(Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  session.onHeard = (f) => heard.update(Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  let deadline = now;
  const peerSrtp = srtp && ourSrtp(srtp, masterKeyOf(srtp, PEER_KEY));
  const fromPeerRtcp = (packet: Uint8Array) => {
    const wire = peerSrtp ? peerSrtp.protectRtcp(packet) : packet;
    rtcp.emit('message', Buffer.from(wire), {
      address: PEER.address,
      port: PEER.port + 1,
      family: 'IPv4',
      size: 0,
    });
  };
  let peerSeq = 1000;
  let peerTs = 50_000;
  const fromPeer = (payload: Uint8Array, pt = 0, marker = false, ts = peerTs) => {
    const pkt = buildRtp({
      marker,
      payloadType: pt,
      sequence: peerSeq,
      timestamp: ts,
      ssrc: 0xabcdef,
      payload,
    });
    peerSeq = (peerSeq + 1) & 0xffff;
    const wire = peerSrtp ? peerSrtp.protectRtp(pkt) : pkt;
    rtp.emit('message', Buffer.from(wire), { ...PEER, family: 'IPv4', size: wire.length });
  };
  const peerVoice = (i: number) => encodeG711('PCMU', tone(160, 300 + (i % 7) * 50, 4000));
  /** One 20 ms tick; the peer's packet for it (unless lost) arrives just before, a little jittered. */
  const step = (opts: { transmit?: boolean; lose?: boolean; peer?: boolean } = {}) => {
    if (opts.peer !== false && !opts.lose) {
      now += 3 + (peerSeq % 5);
      fromPeer(peerVoice(peerSeq));
      now -= 3 + ((peerSeq - 1) % 5);
    } else if (opts.lose) peerSeq = (peerSeq + 1) & 0xffff;
    peerTs = (peerTs + 160) >>> 0;
    now += 20;
    deadline = now;
    session.tick(deadline, now, opts.transmit ?? true);
  };

  // ringing: the peer's early audio arrives, we do not send yet
  for (let i = 0; i < 5; i++) step();
  // answered: greeting (a 330 ms tone, not a whole number of frames)
  session.queue.enqueue(tone(2640, 440, 8000));
  session.startSending();
  for (let i = 0; i < 10; i++) step({ lose: i === 4 || i === 5 });
  // two digits out (RFC 4733), audio queued behind them
  session.sendDtmf('1#');
  session.queue.enqueue(tone(800, 1000, 6000));
  for (let i = 0; i < 30; i++) step();
  // a digit in: three packets of one event with its end packets repeated
  for (const [end, dur] of [
    [false, 160],
    [false, 320],
    [true, 480],
    [true, 480],
  ] as const) {
    fromPeer(encodeTelephoneEvent(5, end, dur), 101, dur === 160, 77_000);
    now += 5;
  }
  // the peer reports (RTCP SR with a block about our stream)
  const sr = buildReport({
    type: 'SR',
    ssrc: 0xabcdef,
    sender: { ntp: ntpTime(1_800_000_000_000 + now - 30), rtpTimestamp: peerTs, packets: 40, octets: 6400 },
    blocks: [{ ssrc: 0, fractionLost: 0, cumulativeLost: 0, highestSeq: 0, jitter: 0, lsr: 0, dlsr: 0 }],
  });
  fromPeerRtcp(sr);
  for (let i = 0; i < 20; i++) step({ peer: i % 4 !== 0 });
  // hold: music in a loop, then the resume; the queue keeps what it held
  session.queue.enqueue(tone(480, 600, 3000));
  session.holdMusic(tone(1000, 220, 5000));
  for (let i = 0; i < 15; i++) step();
  session.holdMusic(undefined);
  session.update({ ...options, direction: 'recvonly' });
  for (let i = 0; i < 5; i++) step();
  session.update(options);
  for (let i = 0; i < 10; i++) step();
  // a stall: 8 overdue ticks (time passes, nothing sent), then the stream resumes with the marker bit
  session.queue.enqueue(tone(1600, 700, 7000));
  for (let i = 0; i < 8; i++) step({ transmit: false, peer: false });
  for (let i = 0; i < 10; i++) step();
  // silence, then a talkspurt queued 12 ms before its tick starts at once (marker bit, frame ahead)
  for (let i = 0; i < 3; i++) step();
  now += 8;
  session.queue.enqueue(tone(480, 880, 5000));
  now -= 8;
  for (let i = 0; i < 5; i++) step();
  // a silent stream without comfort noise: the timestamp keeps counting
  session.update({ ...options, sendSilence: false });
  for (let i = 0; i < 5; i++) step();
  session.queue.enqueue(tone(320, 500, 5000));
  for (let i = 0; i < 255 - 126; i++) step();
  // the peer answers our SR of tick 250 (RFC 3550 6.4.1: LSR and DLSR give us the round trip)
  const ourWire = Buffer.from(lines.findLast((l) => l.startsWith('rtcp'))!.split(' ')[2]!, 'hex');
  const ourRtcp = srtp
    ? ourSrtp(srtp, masterKeyOf(srtp, options.srtp!.local)).unprotectRtcp(ourWire)
    : ourWire;
  if (typeof ourRtcp === 'string') throw new Error(ourRtcp);
  const ours = parseReports(ourRtcp)[0]!;
  const rr = buildReport({
    type: 'RR',
    ssrc: 0xabcdef,
    blocks: [
      {
        ssrc: ours.ssrc,
        fractionLost: 3,
        cumulativeLost: 1,
        highestSeq: 9,
        jitter: 12,
        lsr: ntpMiddle(ours.sender!.ntp),
        dlsr: 65536 / 20,
      },
    ],
  });
  now += 90;
  fromPeerRtcp(rr);
  session.sendReport();
  await session.close();
  const wav = readFileSync(recorder.path);
  const report = session.report();
  lines.push(`dtmf ${dtmf.join('')}`);
  lines.push(`frames ${frames.digest('hex')}`);
  lines.push(`heard ${heard.digest('hex')}`);
  lines.push(`recording ${createHash('sha256').update(wav).digest('hex')} ${wav.length}`);
  lines.push(`report ${JSON.stringify(report)}`);
  lines.push(`stats ${JSON.stringify(session.stats)}`);
  return `${lines.join('\n')}\n`;
}

/** The plain run, then the same with each SRTP suite (the in-place encryption path, RTCP protected). */
const runAll = async (): Promise<string> =>
  [
    await run(),
    `# SRTP AES_CM_128_HMAC_SHA1_80\n${await run('AES_CM_128_HMAC_SHA1_80')}`,
    `# SRTP AEAD_AES_128_GCM\n${await run('AEAD_AES_128_GCM')}`,
  ].join('');

describe('media session fixture', () => {
  it('puts the same bytes on the wire and on disk as when the fixture was written', async () => {
    const got = await runAll();
    if (process.env.UPDATE_MEDIA_FIXTURE === '1' || !existsSync(FIXTURE)) {
      writeFileSync(FIXTURE, got);
      if (process.env.UPDATE_MEDIA_FIXTURE !== '1') throw new Error(`wrote ${FIXTURE}: run again`);
    }
    const want = readFileSync(FIXTURE, 'utf8');
    // line by line, so a difference names the first datagram that changed
    const a = got.split('\n');
    const b = want.split('\n');
    for (let i = 0; i < Math.max(a.length, b.length); i++) expect(`${i}: ${a[i]}`).toBe(`${i}: ${b[i]}`);
  });

  it('is deterministic: two runs in one process give the same bytes', async () => {
    expect(await runAll()).toBe(await runAll());
  });
});
