import { describe, expect, it } from 'vitest';
import { buildReport, ntpMiddle, ntpTime, parseReports, roundTripMs } from '../../../src/rtp/rtcp.ts';

describe('RTCP reports (RFC 3550 6.4)', () => {
  it('SR with a report block round-trips; RR too; negative cumulative loss survives', () => {
    const block = {
      ssrc: 0xabcdef01,
      fractionLost: 64,
      cumulativeLost: -3,
      highestSeq: 0x1ffff,
      jitter: 37,
      lsr: 0x12345678,
      dlsr: 65536,
    };
    const sr = buildReport({
      type: 'SR',
      ssrc: 1,
      sender: { ntp: ntpTime(1_700_000_000_123), rtpTimestamp: 160, packets: 50, octets: 8000 },
      blocks: [block],
    });
    expect(sr.length).toBe(52);
    const [r] = parseReports(sr);
    expect(r).toMatchObject({
      type: 'SR',
      ssrc: 1,
      blocks: [block],
      sender: { rtpTimestamp: 160, packets: 50, octets: 8000 },
    });
    expect(parseReports(buildReport({ type: 'RR', ssrc: 2, blocks: [] }))).toEqual([
      { type: 'RR', ssrc: 2, blocks: [] },
    ]);
    expect(parseReports(Uint8Array.of(1, 2, 3))).toEqual([]);
  });

  it('round-trip time = arrival - LSR - DLSR', () => {
    const sentAt = 1_700_000_000_000;
    const lsr = ntpMiddle(ntpTime(sentAt));
    // the peer held our SR for 250 ms, the network took 2 x 20 ms
    const rtt = roundTripMs(
      { ssrc: 1, fractionLost: 0, cumulativeLost: 0, highestSeq: 0, jitter: 0, lsr, dlsr: 0.25 * 65536 },
      ntpTime(sentAt + 290),
    );
    expect(rtt).toBeCloseTo(40, 0);
  });
});
