import { describe, expect, it } from 'vitest';
import {
  DtmfReceiver,
  DtmfSender,
  decodeTelephoneEvent,
  encodeTelephoneEvent,
} from '../../../src/rtp/dtmf.ts';
import { parseRtp } from '../../../src/rtp/packet.ts';
import { buildReport, ntpMiddle, ntpTime, parseReports } from '../../../src/rtp/rtcp.ts';
import { RtcpSession } from '../../../src/rtp/rtcp-session.ts';
import { RtpSender } from '../../../src/rtp/sender.ts';

const fixed = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

/** What each step puts in the header: [marker, sequence, timestamp] (a step that sends nothing: '-'). */
function run(
  steps: Array<'voice' | 'silence' | 'silent' | 'skipped'>,
): Array<[boolean, number, number] | '-'> {
  const tx = new RtpSender(fixed(0.5, 0.99999, 0.25), 160);
  const buf = new Uint8Array(12 + 160);
  return steps.map((s) => {
    if (s === 'silent' || s === 'skipped') {
      tx[s]();
      return '-';
    }
    tx.frame(buf, s === 'voice', 0);
    const p = parseRtp(buf);
    if (!p.ok) throw new Error('bad header');
    return [p.value.marker, p.value.sequence, p.value.timestamp];
  });
}

describe('RtpSender (RFC 3550 5.1, RFC 3551 4.1)', () => {
  it('takes SSRC, first sequence and timestamp from its random source', () => {
    const tx = new RtpSender(fixed(0.5, 0.99999, 0.25), 160);
    expect([tx.ssrc, tx.nextSequence(), tx.timestamp]).toEqual([0x8000_0000, 0xffff, 0x4000_0000]);
    expect(tx.nextSequence()).toBe(0); // the sequence wraps
  });

  it.each<[string, Parameters<typeof run>[0], ReturnType<typeof run>]>([
    [
      'a talkspurt: marker on its first packet only',
      ['voice', 'voice', 'voice'],
      [
        [true, 0xffff, 0x4000_0000],
        [false, 0, 0x4000_00a0],
        [false, 1, 0x4000_0140],
      ],
    ],
    [
      'comfort silence ends a spurt; the next voice is marked',
      ['voice', 'silence', 'voice'],
      [
        [true, 0xffff, 0x4000_0000],
        [false, 0, 0x4000_00a0],
        [true, 1, 0x4000_0140],
      ],
    ],
    [
      'a silence not sent: the timestamp counts on, the sequence does not',
      ['voice', 'silent', 'silent', 'voice'],
      [[true, 0xffff, 0x4000_0000], '-', '-', [true, 0, 0x4000_01e0]],
    ],
    [
      'frames a stall kept back: time passes, the next packet (even silence) is marked',
      ['silence', 'skipped', 'skipped', 'silence', 'silence'],
      [[false, 0xffff, 0x4000_0000], '-', '-', [true, 0, 0x4000_01e0], [false, 1, 0x4000_0280]],
    ],
  ])('%s', (_, steps, want) => {
    expect(run(steps)).toEqual(want);
  });
});

describe('RFC 4733 digits', () => {
  it('sends each digit as 5 packets of one event, the end packet 3 times, then audio resumes 100 ms on', () => {
    const out = new DtmfSender(160);
    out.enqueue('1x#');
    const packets = [];
    let ts = 1000;
    while (out.busy) {
      const p = out.next(ts);
      packets.push({
        ...decodeTelephoneEvent(p.payload)!,
        marker: p.marker,
        ts: p.timestamp,
        resumeAt: p.resumeAt,
      });
      if (p.resumeAt !== undefined) ts = p.resumeAt;
    }
    expect(packets.map((p) => `${p.digit}${p.end ? 'E' : ''}${p.marker ? 'M' : ''}:${p.duration}`)).toEqual([
      ...['1M:160', '1:320', '1:480', '1:640', '1E:800', '1E:800', '1E:800'],
      ...['#M:160', '#:320', '#:480', '#:640', '#E:800', '#E:800', '#E:800'],
    ]);
    expect(packets.filter((p) => p.digit === '1').every((p) => p.ts === 1000)).toBe(true);
    expect(packets.filter((p) => p.digit === '#').every((p) => p.ts === 1800)).toBe(true);
    expect(packets.map((p) => p.resumeAt).filter((r) => r !== undefined)).toEqual([1800, 2600]);
  });

  it('reports a press once however many packets carry it, and the same digit again as a new press', () => {
    const rx = new DtmfReceiver();
    const ev = (d: number, end = false) => encodeTelephoneEvent(d, end, 160);
    expect([rx.accept(10, ev(5)), rx.accept(10, ev(5)), rx.accept(10, ev(5, true))]).toEqual([
      '5',
      undefined,
      undefined,
    ]);
    expect(rx.accept(20, ev(5))).toBe('5');
    expect(rx.accept(30, Uint8Array.of(200, 0, 0, 160))).toBeUndefined(); // not a DTMF event
    expect(rx.accept(40, Uint8Array.of(1))).toBeUndefined(); // too short
  });
});

describe('RtcpSession (RFC 3550 6.4)', () => {
  const peer = { address: '127.0.0.1', port: 5005 };
  it('sends to RTP port + 1 until the peer reports from elsewhere, and again after the media moved', () => {
    const s = new RtcpSession(7);
    expect(s.target({ address: '127.0.0.1', port: 4000 })).toEqual({ address: '127.0.0.1', port: 4001 });
    expect(s.target(undefined)).toBeUndefined();
    const rr = buildReport({ type: 'RR', ssrc: 99, blocks: [] });
    expect(s.receive(rr, peer, 99, 0, 0)).toBe(true);
    expect(s.heard).toBe(true);
    expect(s.target({ address: '127.0.0.1', port: 4000 })).toEqual(peer);
    s.moved();
    expect(s.target({ address: '127.0.0.1', port: 4000 })).toEqual({ address: '127.0.0.1', port: 4001 });
  });

  it('ignores garbage and reports from an SSRC other than the one received', () => {
    const s = new RtcpSession(7);
    expect(s.receive(Uint8Array.of(1, 2, 3), peer, undefined, 0, 0)).toBe(false);
    expect(s.receive(buildReport({ type: 'RR', ssrc: 98, blocks: [] }), peer, 99, 0, 0)).toBe(false);
    expect(s.heard).toBe(false);
  });

  it('an RR before we sent, an SR after; LSR/DLSR from the last SR heard; the round trip from the answer', () => {
    const s = new RtcpSession(7);
    const wall = 1_800_000_000_000;
    const rr = parseReports(
      s.report(0, wall, { ssrc: 99, fractionLost: 0, cumulativeLost: 0, highestSeq: 5 }, 3, undefined),
    )[0]!;
    expect(rr.sender).toBeUndefined();
    expect(rr.blocks[0]).toMatchObject({ ssrc: 99, jitter: 3, lsr: 0, dlsr: 0 });
    // the peer's SR at t=1000 (its NTP time is what its LSR will echo)
    const peerNtp = ntpTime(wall + 900);
    s.receive(
      buildReport({
        type: 'SR',
        ssrc: 99,
        sender: { ntp: peerNtp, rtpTimestamp: 0, packets: 1, octets: 160 },
        blocks: [],
      }),
      peer,
      99,
      1000,
      wall + 1000,
    );
    const sr = parseReports(
      s.report(1500, wall + 1500, { ssrc: 99, fractionLost: 0, cumulativeLost: 0, highestSeq: 9 }, 3, {
        rtpTimestamp: 160,
        packets: 10,
        octets: 1600,
      }),
    )[0]!;
    expect(sr.sender).toMatchObject({ packets: 10, octets: 1600, rtpTimestamp: 160 });
    expect(sr.blocks[0]).toMatchObject({ lsr: ntpMiddle(peerNtp), dlsr: Math.round(0.5 * 65536) });
    // the peer answers our SR 200 ms after it came, which was 100 ms after we sent it: 100 ms round trip
    const ourNtp = sr.sender!.ntp;
    const answer = buildReport({
      type: 'RR',
      ssrc: 99,
      blocks: [
        {
          ssrc: 7,
          fractionLost: 0,
          cumulativeLost: 0,
          highestSeq: 0,
          jitter: 0,
          lsr: ntpMiddle(ourNtp),
          dlsr: 0.2 * 65536,
        },
      ],
    });
    s.receive(answer, peer, 99, 1800, wall + 1800);
    expect(s.rttMs).toBeCloseTo(100, 0);
  });
});
