/** What an RTCP report block says about one source (RFC 3550 6.4.1), less jitter and LSR/DLSR. */
export interface ReceptionBlock {
  readonly ssrc: number;
  readonly fractionLost: number;
  readonly cumulativeLost: number;
  readonly highestSeq: number;
}

/**
 * Reception statistics of the source a call listens to (RFC 3550 A.1, A.3), pure: which SSRC is taken
 * (a new one only after three packets in a row: probation, A.1), the extended highest sequence number
 * (wraps counted), packets expected and lost, and the interval figures of the next report block.
 */
export class ReceiverStats {
  #ssrc: number | undefined;
  #probation: { ssrc: number; count: number } | undefined;
  #base: number | undefined;
  #max = 0;
  #cycles = 0;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;

  /** The SSRC being received, once one is. */
  get ssrc(): number | undefined {
    return this.#ssrc;
  }

  /** Packets counted from the current source. */
  get received(): number {
    return this.#received;
  }

  /**
   * Counts a packet: 'held' when it is held back (another SSRC than the current one, not yet three packets
   * in a row: a stray packet, or the peer restarting its stream after a re-INVITE), 'new' when its source
   * takes over (statistics start afresh), 'same' otherwise.
   */
  accept(ssrc: number, seq: number): 'same' | 'new' | 'held' {
    let result: 'same' | 'new' = 'same';
    if (this.#ssrc !== undefined && ssrc !== this.#ssrc) {
      const p = this.#probation;
      this.#probation = p?.ssrc === ssrc ? { ssrc, count: p.count + 1 } : { ssrc, count: 1 };
      if (this.#probation.count < 3) return 'held';
      result = 'new';
      this.#base = undefined;
      this.#received = 0;
      this.#expectedPrior = 0;
      this.#receivedPrior = 0;
    }
    if (this.#probation) this.#probation = undefined;
    this.#ssrc = ssrc;
    this.#track(seq);
    this.#received++;
    return result;
  }

  /** Packets expected from the current source: extended highest minus first sequence number, plus one. */
  get expected(): number {
    return this.#base === undefined ? 0 : this.#cycles + this.#max - this.#base + 1;
  }

  /** Cumulative loss (never negative: duplicates can make received exceed expected). */
  get lost(): number {
    return Math.max(0, this.expected - this.#received);
  }

  /** The report block's loss figures, the fraction over the interval since the last call (A.3). */
  nextBlock(): ReceptionBlock | undefined {
    if (this.#ssrc === undefined || this.#base === undefined) return undefined;
    const expected = this.expected;
    const expInterval = expected - this.#expectedPrior;
    const recInterval = this.#received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const lostInterval = expInterval - recInterval;
    return {
      ssrc: this.#ssrc,
      fractionLost: expInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval << 8) / expInterval),
      cumulativeLost: expected - this.#received,
      highestSeq: this.#cycles + this.#max,
    };
  }

  /** RFC 3550 A.1: the extended highest sequence number, counting wraps. */
  #track(seq: number): void {
    if (this.#base === undefined) {
      this.#base = seq;
      this.#max = seq;
      this.#cycles = 0;
      return;
    }
    const delta = (seq - this.#max) & 0xffff;
    if (delta < 0x8000) {
      if (seq < this.#max) this.#cycles += 0x10000;
      this.#max = seq;
    }
  }
}
