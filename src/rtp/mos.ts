/**
 * Listening quality of a call estimated from its RTP figures with the E-model (ITU-T G.107), simplified as
 * usual for VoIP monitoring (Cole & Rosenbluth): only delay and loss move R away from its default
 * 93.2, the other impairments at their G.107 defaults.
 *   R = 93.2 - Id - Ie,eff
 *   Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3)                  (d: one-way mouth-to-ear delay, ms)
 *   Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)             (G.107 7.2; Ppl: loss in %)
 *   MOS = 1 + 0.035 R + R (R - 60) (100 - R) 7e-6, for 0 < R < 100 (G.107 Annex B)
 * G.711 with packet loss concealment: Ie = 0, Bpl = 25.1 (G.113 Appendix I); random loss: BurstR = 1.
 */
export interface QualityInput {
  /** Packets lost and received (RFC 3550 A.3). */
  readonly lost: number;
  readonly received: number;
  /** Round-trip time from RTCP (RFC 3550 6.4.1), when known. */
  readonly rttMs: number | undefined;
  /** Our jitter buffer's delay and the packet's duration: added to half the RTT as the one-way delay. */
  readonly bufferMs: number;
  readonly packetMs: number;
}

const IE_G711 = 0;
const BPL_G711_PLC = 25.1;

export function rFactor(q: QualityInput): number {
  const total = q.lost + q.received;
  const ppl = total > 0 ? (100 * Math.max(0, q.lost)) / total : 0;
  const d = (q.rttMs ?? 0) / 2 + q.bufferMs + q.packetMs;
  const id = 0.024 * d + (d > 177.3 ? 0.11 * (d - 177.3) : 0);
  const ie = IE_G711 + ((95 - IE_G711) * ppl) / (ppl / 1 + BPL_G711_PLC);
  return 93.2 - id - ie;
}

export function mosOf(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  return 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6;
}

/** The estimated MOS (1 to 4.5), to two decimals. */
export function estimateMos(q: QualityInput): number {
  return Math.round(mosOf(rFactor(q)) * 100) / 100;
}
