/** An RTP transport address. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface SourcePolicyOptions {
  /** Symmetric RTP (RTP_SYMMETRIC): learn where the peer's RTP really comes from (NAT). */
  readonly symmetric: boolean;
  /** IP the call's SIP signalling comes from (the caller, or the upstream server). */
  readonly signalling?: string | undefined;
}

const same = (a: Endpoint | undefined, address: string, port: number) =>
  a !== undefined && a.address === address && a.port === port;

/**
 * Which source a call's RTP is taken from, and so where ours goes (symmetric RTP), learnt as rtpengine and
 * Asterisk's strict RTP do, so that a stranger spraying packets at our port range cannot take the call:
 *
 * - packets from the address:port the SDP names are always taken, and win: they (re)latch the call, and
 *   once they have come, no other source is taken (RFC 3264 5.1: the c=/m= address is where the peer
 *   "wishes to receive" its media, and a symmetric peer sends from there);
 * - another source is taken only with symmetric RTP, only while nothing came from the SDP address, and only
 *   from the SDP's IP or the signalling's IP (a phone behind NAT sends RTP from the public IP its SIP comes
 *   from, with a port the NAT picked); the first such source latches, others are ignored.
 *
 * Pure and clock-free: the media session asks it per packet (two string compares on the hot path).
 */
export class RtpSourcePolicy {
  #sdp: Endpoint | undefined;
  #latched: Endpoint | undefined;
  #sdpHeard = false;
  readonly #opts: SourcePolicyOptions;

  constructor(sdp: Endpoint | undefined, opts: SourcePolicyOptions) {
    this.#sdp = sdp;
    this.#opts = opts;
  }

  /** Where our RTP goes: the latched source, else the SDP address (undefined while held with c=0.0.0.0). */
  get target(): Endpoint | undefined {
    return this.#latched ?? this.#sdp;
  }

  get latched(): boolean {
    return this.#latched !== undefined;
  }

  /**
   * New SDP (a re-INVITE). A new address starts learning afresh (the peer moved its media: RFC 3264 8.3.1
   * "the new address ... MUST be used"); the same address keeps what was learnt. Returns whether it moved.
   */
  setSdp(sdp: Endpoint | undefined): boolean {
    if (sdp?.address === this.#sdp?.address && sdp?.port === this.#sdp?.port) return false;
    this.#sdp = sdp;
    this.#latched = undefined;
    this.#sdpHeard = false;
    return true;
  }

  /** Whether a packet from address:port belongs to the call (and, for a first packet, latch it). */
  accept(address: string, port: number): boolean {
    if (same(this.#latched, address, port)) return true;
    if (same(this.#sdp, address, port)) {
      this.#sdpHeard = true;
      this.#latched = this.#sdp;
      return true;
    }
    if (!this.#opts.symmetric || this.#sdpHeard || this.#latched) return false;
    if (address !== this.#sdp?.address && address !== this.#opts.signalling) return false;
    this.#latched = { address, port };
    return true;
  }
}
