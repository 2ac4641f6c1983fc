import { buildReport, ntpMiddle, ntpTime, parseReports, type ReportBlock, roundTripMs } from './rtcp.ts';

type Address = { readonly address: string; readonly port: number };

/** What our next report says about what we sent (absent before our first packet: an RR). */
export interface SentSoFar {
  readonly rtpTimestamp: number;
  readonly packets: number;
  readonly octets: number;
}

/**
 * One stream's RTCP (RFC 3550 6.4): our SR or RR with a report block about the source we receive, and
 * the peer's reports read for the round-trip time. Pure: the media session sends what this builds and
 * hands it what arrives (decrypted).
 */
export class RtcpSession {
  /** The last SR heard: its NTP middle 32 bits and when it came (our clock), for LSR and DLSR. */
  #lastSr: { middle: number; at: number } | undefined;
  #rttMs: number | undefined;
  /** Where the peer's RTCP comes from (symmetric RTCP), once a valid report has come. */
  #remote: Address | undefined;
  /** A valid report has come from the peer. */
  heard = false;

  constructor(readonly ssrc: number) {}

  /** The last round trip measured (RFC 3550 6.4.1), ms. */
  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Where our reports go: where the peer's come from, else its RTP port + 1 (RFC 3550 11). */
  target(rtp: Address | undefined): Address | undefined {
    return this.#remote ?? (rtp ? { address: rtp.address, port: rtp.port + 1 } : undefined);
  }

  /** The media moved (new SDP address): where RTCP comes from is learnt again. */
  moved(): void {
    this.#remote = undefined;
  }

  /**
   * Our report at `now` (our clock; `wallMs` the wall-clock time then, for the NTP timestamp): an SR once
   * we have sent, else an RR; `block` is the reception figures of the source we receive (RFC 3550 A.3).
   */
  report(
    now: number,
    wallMs: number,
    block: Omit<ReportBlock, 'jitter' | 'lsr' | 'dlsr'> | undefined,
    jitter: number,
    sent: SentSoFar | undefined,
  ): Uint8Array {
    const blocks: ReportBlock[] = [];
    if (block) {
      blocks.push({
        ...block,
        jitter,
        lsr: this.#lastSr?.middle ?? 0,
        dlsr: this.#lastSr ? Math.round(((now - this.#lastSr.at) / 1000) * 65536) : 0,
      });
    }
    const sender = sent ? { ntp: ntpTime(wallMs), ...sent } : undefined;
    return buildReport({
      type: sender ? 'SR' : 'RR',
      ssrc: this.ssrc,
      blocks,
      ...(sender ? { sender } : {}),
    });
  }

  /**
   * A compound packet from `from` (decrypted). Only well-formed reports sent by the SSRC we receive (once
   * known) may teach us where RTCP goes: garbage from another port does not. True when taken.
   */
  receive(
    data: Uint8Array,
    from: Address,
    receivedSsrc: number | undefined,
    now: number,
    wallMs: number,
  ): boolean {
    const reports = parseReports(data);
    if (reports.length === 0) return false;
    if (receivedSsrc !== undefined && !reports.some((r) => r.ssrc === receivedSsrc)) return false;
    this.#remote = { address: from.address, port: from.port };
    this.heard = true;
    for (const r of reports) {
      if (r.sender) this.#lastSr = { middle: ntpMiddle(r.sender.ntp), at: now };
      for (const b of r.blocks) {
        if (b.ssrc !== this.ssrc) continue;
        // RFC 3550 6.4.1: A - LSR - DLSR; a figure over a minute is a stale or forged block
        const rtt = roundTripMs(b, ntpTime(wallMs));
        if (rtt !== undefined && rtt < 60_000) this.#rttMs = rtt;
      }
    }
    return true;
  }
}
