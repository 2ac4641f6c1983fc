import { buildRtpHeader } from './packet.ts';

/**
 * The sending side of one RTP stream: its SSRC, sequence number, timestamp and marker bit, one frame of
 * `frameUnits` timestamp units at a time. Pure: the media session owns the socket and the clock.
 *
 * - RFC 3550 5.1: the SSRC, first sequence number and first timestamp are random; the timestamp counts
 *   sampling instants, also through a silence nothing is sent for and through frames a stall kept back, so
 *   the receiver plays the next packet at its real time.
 * - RFC 3551 4.1: the marker bit flags the first packet of a talkspurt, and the first after a stall (the
 *   timestamp jumped: the receiver should set its playout point again).
 */
export class RtpSender {
  readonly ssrc: number;
  #seq: number;
  #ts: number;
  /** The last packet carried audio (a talkspurt is under way). */
  #talking = false;
  /** Frames were skipped: the next packet carries the marker bit. */
  #resync = false;

  constructor(
    random: () => number,
    readonly frameUnits: number,
  ) {
    this.ssrc = (random() * 0x1_0000_0000) >>> 0;
    this.#seq = Math.floor(random() * 0x10000);
    this.#ts = (random() * 0x1_0000_0000) >>> 0;
  }

  /** A talkspurt is under way (its next audio packet carries no marker bit). */
  get talking(): boolean {
    return this.#talking;
  }

  /** The timestamp of the next frame. */
  get timestamp(): number {
    return this.#ts;
  }

  /**
   * Writes the header of the next frame's packet into `packet` (12 bytes) and moves on a frame: `voiced`
   * is audio (false: comfort silence, which ends a talkspurt).
   */
  frame(packet: Uint8Array, voiced: boolean, payloadType: number): void {
    const marker = (voiced && !this.#talking) || this.#resync;
    this.#resync = false;
    this.#talking = voiced;
    buildRtpHeader(packet, marker, payloadType, this.#seq, this.#ts, this.ssrc);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#ts = (this.#ts + this.frameUnits) >>> 0;
  }

  /** A frame's time passed with nothing sent (silence without comfort noise): the next audio starts a spurt. */
  silent(): void {
    this.#ts = (this.#ts + this.frameUnits) >>> 0;
    this.#talking = false;
  }

  /** A frame kept back by a stall: its time passes, and the next packet carries the marker bit. */
  skipped(): void {
    this.silent();
    this.#resync = true;
  }

  /** The next sequence number, taken (a packet that is not a frame of audio: an RFC 4733 event). */
  nextSequence(): number {
    const seq = this.#seq;
    this.#seq = (seq + 1) & 0xffff;
    return seq;
  }

  /** Audio resumes at `ts` (after an RFC 4733 event), starting a new talkspurt. */
  resumeAt(ts: number): void {
    this.#ts = ts >>> 0;
    this.#talking = false;
  }

  /** The next audio packet starts a talkspurt (new SDP: another address, codec or direction). */
  endSpurt(): void {
    this.#talking = false;
  }
}
