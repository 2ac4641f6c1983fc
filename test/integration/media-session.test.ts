import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MediaSession } from '../../src/io/media/media-session.ts';
import { WavRecorder } from '../../src/io/media/recording.ts';
import { RtpScheduler } from '../../src/io/media/rtp-scheduler.ts';
import { silentLogger } from '../../src/kernel/logger.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import { buildRtp, parseRtp, type RtpPacket } from '../../src/rtp/packet.ts';
import { buildReport, ntpMiddle, parseReports } from '../../src/rtp/rtcp.ts';
import { until } from '../helpers/peers.ts';

const bind = async (): Promise<Socket> => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
};
const port = (s: Socket) => s.address().port;
const sockets: Socket[] = [];
const sessions: MediaSession[] = [];
const schedulers: RtpScheduler[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.close();
  await Promise.all(schedulers.splice(0).map((s) => s.close()));
  for (const s of sockets.splice(0)) s.close();
});

async function setup(
  opts: { dtmf?: number; symmetric?: boolean; sendSilence?: boolean; recorder?: WavRecorder } = {},
) {
  const [rtp, rtcp, peer, peerRtcp, stranger] = await Promise.all([bind(), bind(), bind(), bind(), bind()]);
  sockets.push(rtp, rtcp, peer, peerRtcp, stranger);
  const got: RtpPacket[] = [];
  const arrivals: number[] = [];
  peer.on('message', (d) => {
    const p = parseRtp(d);
    if (p.ok) {
      got.push(p.value);
      arrivals.push(performance.now());
    }
  });
  const dtmf: string[] = [];
  const scheduler = new RtpScheduler();
  schedulers.push(scheduler);
  const session = new MediaSession({
    callId: 'c1',
    socket: rtp,
    rtcpSocket: rtcp,
    options: {
      codec: 'PCMU',
      remote: { address: '127.0.0.1', port: port(peer) },
      dtmfPayloadType: opts.dtmf,
      sendSilence: opts.sendSilence ?? true,
      symmetric: opts.symmetric ?? true,
      jitterMs: 40,
    },
    scheduler,
    recorder: opts.recorder,
    log: silentLogger,
    onDtmf: (d) => dtmf.push(d),
  });
  sessions.push(session);
  const sendFrom = (from: Socket, seq: number, ssrc = 77) =>
    new Promise<void>((r) =>
      from.send(
        buildRtp({
          marker: false,
          payloadType: 0,
          sequence: seq,
          timestamp: seq * 160,
          ssrc,
          payload: encodeG711('PCMU', new Int16Array(160).fill(500)),
        }),
        port(rtp),
        '127.0.0.1',
        () => r(),
      ),
    );
  return {
    session,
    peer,
    peerRtcp,
    stranger,
    got,
    arrivals,
    dtmf,
    sendFrom,
    rtpPort: port(rtp),
    rtcpPort: port(rtcp),
  };
}
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('media session on real sockets', () => {
  it('sends RFC 4733 events: 5 packets of growing duration, one timestamp, the end packet three times', async () => {
    const s = await setup({ dtmf: 101 });
    s.session.startSending();
    expect(s.session.sendDtmf('5')).toBe(true);
    await wait(300);
    const events = s.got.filter((p) => p.payloadType === 101);
    expect(
      events.map((p) => [p.payload[0], p.payload[1]! >> 7, (p.payload[2]! << 8) | p.payload[3]!]),
    ).toEqual([
      [5, 0, 160],
      [5, 0, 320],
      [5, 0, 480],
      [5, 0, 640],
      [5, 1, 800],
      [5, 1, 800],
      [5, 1, 800],
    ]);
    expect(new Set(events.map((p) => p.timestamp)).size).toBe(1);
    expect(events[0]!.marker).toBe(true);
    const after = s.got.find(
      (p) => p.payloadType === 0 && p.sequence === ((events.at(-1)!.sequence + 1) & 0xffff),
    );
    expect(after?.timestamp).toBe((events[0]!.timestamp + 800) >>> 0); // audio resumes after the event
  });

  it('latches onto the first source (symmetric RTP) and ignores packets from anyone else afterwards', async () => {
    const s = await setup();
    await s.sendFrom(s.peer, 1);
    await s.sendFrom(s.stranger, 2);
    await wait(50);
    expect(s.session.stats).toMatchObject({ received: 1, ignored: 1 });
  });

  it('ignores a stray SSRC; takes a new one after three packets in a row (RFC 3550 A.1 probation)', async () => {
    const s = await setup();
    await s.sendFrom(s.peer, 1);
    await s.sendFrom(s.peer, 2, 99);
    await s.sendFrom(s.peer, 3);
    await wait(30);
    expect(s.session.stats).toMatchObject({ received: 2, ignored: 1 });
    for (const seq of [500, 501, 502, 503]) await s.sendFrom(s.peer, seq, 1234);
    await wait(30);
    expect(s.session.stats).toMatchObject({ received: 4, ignored: 3 });
  });

  it('counts loss from sequence gaps and reports it in RTCP to port+1 of the peer', async () => {
    const s = await setup();
    s.session.startSending();
    const reports: ReturnType<typeof parseReports> = [];
    s.peerRtcp.on('message', (d) => reports.push(...parseReports(d)));
    for (const seq of [10, 11, 13, 14]) await s.sendFrom(s.peer, seq);
    await wait(50);
    expect(s.session.report()).toMatchObject({ received: 4, lost: 1 });
    // the session sends reports to the RTP port + 1 unless RTCP came from elsewhere; point it at our socket
    // with a receiver report from the SSRC we receive (77)
    s.peerRtcp.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 77]), s.rtcpPort, '127.0.0.1');
    await wait(50);
    s.session.sendReport();
    await wait(50);
    expect(reports[0]).toMatchObject({
      type: 'SR', // we are sending: a sender report with the report block
      blocks: [{ ssrc: 77, cumulativeLost: 1, highestSeq: 14 }],
    });
  });

  it('round-trip time (RFC 3550 6.4.1) stays right when the wall clock is stepped between our SR and its reply', async () => {
    const s = await setup();
    s.session.startSending();
    const srs: ReturnType<typeof parseReports> = [];
    let srAt = 0;
    s.peerRtcp.on('message', (d) => {
      srs.push(...parseReports(d).filter((r) => r.type === 'SR'));
      srAt ||= performance.now();
    });
    await s.sendFrom(s.peer, 1);
    s.peerRtcp.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 77]), s.rtcpPort, '127.0.0.1');
    await wait(50);
    s.session.sendReport();
    await until(() => srs.length > 0, 1000);
    const sr = srs[0]!;
    // an NTP daemon steps the clock 30 s forward; the peer answers our SR 100 ms later
    const step = vi
      .spyOn(Date, 'now')
      .mockImplementation(() => performance.timeOrigin + performance.now() + 30_000);
    try {
      await wait(100);
      const rr = buildReport({
        type: 'RR',
        ssrc: 77,
        blocks: [
          {
            ssrc: sr.ssrc,
            fractionLost: 0,
            cumulativeLost: 0,
            highestSeq: 1,
            jitter: 0,
            lsr: ntpMiddle(sr.sender!.ntp),
            dlsr: Math.round(((performance.now() - srAt) / 1000) * 65536), // how long the peer held it
          },
        ],
      });
      s.peerRtcp.send(rr, s.rtcpPort, '127.0.0.1');
      await until(() => s.session.report().rttMs !== undefined, 1000);
      expect(s.session.report().rttMs).toBeLessThan(1000); // loopback: the datagrams' time (an NTP step read 30,001 ms)
    } finally {
      step.mockRestore();
    }
  });

  it("RTCP garbage or another SSRC from another port on the peer's IP does not redirect our reports", async () => {
    const s = await setup();
    s.session.startSending();
    const toPeer: number[] = [];
    const toStranger: number[] = [];
    s.peerRtcp.on('message', (d) => toPeer.push(parseReports(d).length));
    s.stranger.on('message', (d) => {
      if (d[1] === 200 || d[1] === 201) toStranger.push(d.length);
    });
    await s.sendFrom(s.peer, 1);
    s.peerRtcp.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 77]), s.rtcpPort, '127.0.0.1');
    await wait(50);
    s.stranger.send(Buffer.from('not RTCP at all'), s.rtcpPort, '127.0.0.1');
    s.stranger.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]), s.rtcpPort, '127.0.0.1'); // not the peer's SSRC
    await wait(50);
    s.session.sendReport();
    await wait(50);
    expect(toPeer).toEqual([1]);
    expect(toStranger).toEqual([]);
  });

  it('after a stall (a blocked or stopped process) it resumes at its deadlines: no burst of owed frames', async () => {
    const s = await setup();
    s.session.startSending();
    await wait(200);
    const n = s.got.length;
    const last = s.got.at(-1)!;
    const end = performance.now() + 1000;
    while (performance.now() < end); // the event loop stalls a second, as under SIGSTOP
    await wait(300);
    const after = s.got.slice(n);
    // frames owed for more than 100 ms are not sent: only the last few of the stalled second go out
    const owed = after.filter((p) => (p.timestamp - last.timestamp) >>> 0 <= 8000);
    expect(owed.length).toBeLessThanOrEqual(7);
    // sequence numbers stay contiguous (nothing lost to the receiver), the timestamp counts the stall
    expect(after.every((p, i) => p.sequence === ((last.sequence + 1 + i) & 0xffff))).toBe(true);
    const steps = after.map((p, i) => (p.timestamp - (i === 0 ? last : after[i - 1]!).timestamp) >>> 0);
    const jump = steps.findIndex((d) => d > 160);
    expect(steps[jump]).toBeGreaterThanOrEqual(160 * 44);
    expect(after[jump]!.marker).toBe(true); // the receiver sets its playout point again
  });

  /** Waits until `ms` after the next packet the peer gets: a point between two of the stream's ticks. */
  const midTick = async (s: Awaited<ReturnType<typeof setup>>, ms: number) => {
    const n = s.got.length;
    while (s.got.length === n) await wait(1);
    await new Promise((r) => setTimeout(r, ms));
    return s.arrivals[n]!;
  };
  const tone = (frames: number) =>
    Int16Array.from({ length: frames * 160 }, (_, i) => Math.round(8000 * Math.sin(i / 5)) || 1);

  it('starts a talkspurt queued between ticks at once: marker bit, contiguous numbers, then its own ticks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'early-'));
    try {
      const recorder = new WavRecorder(dir, 'early', { stereo: true });
      const s = await setup({ recorder });
      s.session.startSending();
      await s.sendFrom(s.peer, 1); // the recording starts with the caller's first packet
      await wait(100);
      const tickAt = await midTick(s, 9);
      const before = s.got.length;
      const queuedAt = performance.now();
      s.session.queue.enqueue(tone(5));
      await wait(200);
      const audio = s.got.slice(before).filter((p) => p.payload.some((b) => b !== 0xff));
      const i = s.got.indexOf(audio[0]!);
      expect(audio).toHaveLength(5);
      // the first audio packet left at once, not at the next tick ~11 ms later
      expect(s.arrivals[i]! - queuedAt).toBeLessThan(4);
      expect(audio[0]!.marker).toBe(true);
      expect(audio.slice(1).every((p) => !p.marker)).toBe(true);
      const prev = s.got[i - 1]!;
      expect(audio[0]!.sequence).toBe((prev.sequence + 1) & 0xffff);
      expect(audio[0]!.timestamp).toBe((prev.timestamp + 160) >>> 0);
      // the rest keep the stream's own 20 ms deadlines
      for (let k = 1; k < 5; k++) {
        const off = (s.arrivals[i + k]! - tickAt) % 20;
        expect(Math.min(off, 20 - off)).toBeLessThan(4);
      }
      // what was sent is recorded once each, in order, on the relay's channel
      await s.session.close();
      const wav = readFileSync(recorder.path);
      const pcm = new Int16Array(wav.buffer, wav.byteOffset + 44, (wav.length - 44) / 2);
      const right = pcm.filter((_, k) => k % 2 === 1);
      const voiced = right.filter((v) => v !== 0);
      const sentSamples = tone(5);
      expect(voiced.length).toBeGreaterThan(0);
      // mu-law round trip: each recorded sample is the decoded sent one (not 0), 800 of them, in order
      expect(right.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0)).toBe(sentSamples.length);
      const start = right.findIndex((v) => v !== 0);
      for (let k = 0; k < sentSamples.length; k += 37)
        expect(Math.abs(right[start + k]! - sentSamples[k]!)).toBeLessThan(Math.abs(sentSamples[k]!) / 8 + 8);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps counting timestamps through silence it does not send, and marks the next talkspurt', async () => {
    const s = await setup({ sendSilence: false });
    s.session.startSending();
    s.session.queue.enqueue(tone(2));
    await wait(100);
    expect(s.got).toHaveLength(2);
    await wait(100); // about five ticks without a packet
    s.session.queue.enqueue(tone(2));
    await wait(60);
    expect(s.got).toHaveLength(4);
    const [a, , c] = s.got;
    expect(c!.marker).toBe(true);
    expect(c!.sequence).toBe((a!.sequence + 2) & 0xffff);
    // the timestamp advanced with the time that passed, in whole frames (not just +160)
    const frames = ((c!.timestamp - a!.timestamp) >>> 0) / 160;
    expect(Number.isInteger(frames)).toBe(true);
    const elapsed = (s.arrivals[2]! - s.arrivals[0]!) / 20;
    expect(Math.abs(frames - elapsed)).toBeLessThan(1.5);
  });
});
