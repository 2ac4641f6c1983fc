/**
 * RTCP sender and receiver reports (RFC 3550 6.4), enough for per-call statistics: packets, loss, jitter
 * and round-trip time. Pure: bytes in, values out; never throws.
 */

export interface ReportBlock {
  readonly ssrc: number;
  readonly fractionLost: number; // 0..255 (fraction x 256)
  readonly cumulativeLost: number;
  readonly highestSeq: number; // extended
  readonly jitter: number; // timestamp units
  readonly lsr: number; // middle 32 bits of the last SR's NTP time
  readonly dlsr: number; // 1/65536 s since that SR
}

export interface SenderInfo {
  readonly ntp: bigint;
  readonly rtpTimestamp: number;
  readonly packets: number;
  readonly octets: number;
}

export interface RtcpReport {
  readonly type: 'SR' | 'RR';
  readonly ssrc: number;
  readonly sender?: SenderInfo;
  readonly blocks: readonly ReportBlock[];
}

/** NTP time (RFC 3550 4): seconds since 1900 in the high 32 bits, fraction in the low 32. */
export function ntpTime(unixMs: number): bigint {
  const seconds = BigInt(Math.floor(unixMs / 1000) + 2_208_988_800);
  const fraction = BigInt(Math.floor(((unixMs % 1000) / 1000) * 2 ** 32));
  return (seconds << 32n) | fraction;
}

/** The compact "middle 32 bits" form used by LSR. */
export const ntpMiddle = (ntp: bigint): number => Number((ntp >> 16n) & 0xffffffffn);

export function buildReport(r: RtcpReport): Uint8Array {
  const blocks = r.blocks.slice(0, 31);
  const len = 8 + (r.sender ? 20 : 0) + blocks.length * 24;
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  buf[0] = 0x80 | blocks.length;
  buf[1] = r.type === 'SR' ? 200 : 201;
  v.setUint16(2, len / 4 - 1);
  v.setUint32(4, r.ssrc >>> 0);
  let o = 8;
  if (r.sender) {
    v.setBigUint64(o, r.sender.ntp);
    v.setUint32(o + 8, r.sender.rtpTimestamp >>> 0);
    v.setUint32(o + 12, r.sender.packets >>> 0);
    v.setUint32(o + 16, r.sender.octets >>> 0);
    o += 20;
  }
  for (const b of blocks) {
    v.setUint32(o, b.ssrc >>> 0);
    v.setUint32(
      o + 4,
      ((b.fractionLost & 0xff) << 24) |
        (Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)) & 0xffffff),
    );
    v.setUint32(o + 8, b.highestSeq >>> 0);
    v.setUint32(o + 12, Math.round(b.jitter) >>> 0);
    v.setUint32(o + 16, b.lsr >>> 0);
    v.setUint32(o + 20, b.dlsr >>> 0);
    o += 24;
  }
  return buf;
}

/** Parses the SR and RR packets of a (compound) RTCP datagram; other packet types are skipped. */
export function parseReports(data: Uint8Array): RtcpReport[] {
  const out: RtcpReport[] = [];
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let o = 0;
  while (o + 4 <= data.length) {
    if (data[o]! >> 6 !== 2) break;
    const count = data[o]! & 0x1f;
    const pt = data[o + 1]!;
    const bytes = (v.getUint16(o + 2) + 1) * 4;
    if (o + bytes > data.length) break;
    if ((pt === 200 || pt === 201) && bytes >= 8) {
      const ssrc = v.getUint32(o + 4);
      let p = o + 8;
      let sender: SenderInfo | undefined;
      if (pt === 200 && bytes >= 28) {
        sender = {
          ntp: v.getBigUint64(p),
          rtpTimestamp: v.getUint32(p + 8),
          packets: v.getUint32(p + 12),
          octets: v.getUint32(p + 16),
        };
        p += 20;
      }
      const blocks: ReportBlock[] = [];
      for (let i = 0; i < count && p + 24 <= o + bytes; i++, p += 24) {
        const word = v.getUint32(p + 4);
        let lost = word & 0xffffff;
        if (lost & 0x800000) lost -= 0x1000000;
        blocks.push({
          ssrc: v.getUint32(p),
          fractionLost: word >>> 24,
          cumulativeLost: lost,
          highestSeq: v.getUint32(p + 8),
          jitter: v.getUint32(p + 12),
          lsr: v.getUint32(p + 16),
          dlsr: v.getUint32(p + 20),
        });
      }
      out.push({ type: pt === 200 ? 'SR' : 'RR', ssrc, blocks, ...(sender ? { sender } : {}) });
    }
    o += bytes;
  }
  return out;
}

/**
 * Round-trip time from a report block about our stream (RFC 3550 6.4.1): A - LSR - DLSR, in ms, where A is
 * the arrival time in the same compact NTP form. Undefined when the peer has not seen an SR of ours yet.
 */
export function roundTripMs(block: ReportBlock, arrivalNtp: bigint): number | undefined {
  if (block.lsr === 0) return undefined;
  const a = ntpMiddle(arrivalNtp);
  const rtt = (a - block.lsr - block.dlsr) >>> 0;
  return (rtt / 65536) * 1000;
}
