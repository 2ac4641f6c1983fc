import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { MediaSession } from '../../src/io/media-session.ts';
import { RtpScheduler } from '../../src/io/rtp-scheduler.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import { buildRtp, parseRtp, type RtpPacket } from '../../src/rtp/packet.ts';
import { parseReports } from '../../src/rtp/rtcp.ts';
import { silentLogger } from '../../src/sip/core/logger.ts';

const bind = async (): Promise<Socket> => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
};
const port = (s: Socket) => s.address().port;
const sockets: Socket[] = [];
const sessions: MediaSession[] = [];
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
  for (const s of sockets.splice(0)) s.close();
});

async function setup(opts: { dtmf?: number; symmetric?: boolean } = {}) {
  const [rtp, rtcp, peer, peerRtcp, stranger] = await Promise.all([bind(), bind(), bind(), bind(), bind()]);
  sockets.push(rtp, rtcp, peer, peerRtcp, stranger);
  const got: RtpPacket[] = [];
  peer.on('message', (d) => {
    const p = parseRtp(d);
    if (p.ok) got.push(p.value);
  });
  const dtmf: string[] = [];
  const session = new MediaSession(
    'c1',
    rtp,
    rtcp,
    {
      codec: 'PCMU',
      remote: { address: '127.0.0.1', port: port(peer) },
      dtmfPayloadType: opts.dtmf,
      sendSilence: true,
      symmetric: opts.symmetric ?? true,
      jitterMs: 40,
    },
    new RtpScheduler(),
    undefined,
    silentLogger,
    (d) => dtmf.push(d),
  );
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
  return { session, peer, peerRtcp, stranger, got, dtmf, sendFrom, rtpPort: port(rtp), rtcpPort: port(rtcp) };
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
    const reports: ReturnType<typeof parseReports> = [];
    s.peerRtcp.on('message', (d) => reports.push(...parseReports(d)));
    for (const seq of [10, 11, 13, 14]) await s.sendFrom(s.peer, seq);
    await wait(50);
    expect(s.session.report()).toMatchObject({ received: 4, lost: 1 });
    // the session sends reports to the RTP port + 1 unless RTCP came from elsewhere; point it at our socket
    s.peerRtcp.send(Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 9]), s.rtcpPort, '127.0.0.1');
    await wait(50);
    s.session.sendReport();
    await wait(50);
    expect(reports[0]).toMatchObject({
      type: 'RR',
      blocks: [{ ssrc: 77, cumulativeLost: 1, highestSeq: 14 }],
    });
  });
});
