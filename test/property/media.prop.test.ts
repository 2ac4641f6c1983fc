import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readRtpHeader, rtpHeader } from '../../src/rtp/packet.ts';
import { parseReports } from '../../src/rtp/rtcp.ts';
import { parseSdp } from '../../src/sdp/parse.ts';

// What a hostile peer controls on the media side: SDP bodies, RTP and RTCP datagrams. None may throw.
describe('media parsers never throw (fast-check)', () => {
  it('parseSdp: arbitrary text, and SDP-shaped lines with arbitrary values', () => {
    const line = fc
      .tuple(fc.constantFrom('v', 'o', 's', 'c', 't', 'm', 'a', 'b', 'x'), fc.string())
      .map(([k, v]) => `${k}=${v}`);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(line).map((ls) => ['v=0', ...ls].join('\r\n')),
        ),
        (text) => {
          const r = parseSdp(text);
          expect(typeof r.ok).toBe('boolean');
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('readRtpHeader: arbitrary bytes give a header inside the datagram or a reason', () => {
    const h = rtpHeader();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        if (data.length > 0) data[0] = (data[0]! & 0x3f) | 0x80; // mostly version 2: reach the deeper checks
        const err = readRtpHeader(data, h);
        if (err === undefined) {
          expect(h.start).toBeGreaterThanOrEqual(12);
          expect(h.end).toBeLessThanOrEqual(data.length);
          expect(h.start).toBeLessThanOrEqual(h.end);
        }
      }),
      { numRuns: 20000 },
    );
  });

  it('parseReports: arbitrary bytes give report blocks from inside the datagram', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(200, 201, 202, 203), (data, pt) => {
        if (data.length > 1) {
          data[0] = (data[0]! & 0x3f) | 0x80;
          data[1] = pt;
        }
        for (const r of parseReports(data)) expect(r.blocks.length).toBeLessThanOrEqual(31);
      }),
      { numRuns: 20000 },
    );
  });
});
