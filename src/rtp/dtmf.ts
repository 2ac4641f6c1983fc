/**
 * RFC 4733 telephone-events for DTMF: the sixteen events 0-15 and their payload (2.3):
 *
 *     0                   1                   2                   3
 *    |     event     |E|R| volume    |          duration             |
 *
 * Pure: the media session sends and receives them.
 */

/** Events 0-15 in order: the digits, star, pound, A-D (RFC 4733 3.2). */
export const DTMF_DIGITS = '0123456789*#ABCD';

/** The event number of a key, or -1 for anything that is not one of the sixteen. */
export function dtmfEvent(digit: string): number {
  return digit.length === 1 ? DTMF_DIGITS.indexOf(digit.toUpperCase()) : -1;
}

export interface TelephoneEvent {
  readonly digit: string;
  /** The E bit: the last packet(s) of the event. */
  readonly end: boolean;
  /** Power level, 0 to -63 dBm0 as 0-63. */
  readonly volume: number;
  /** In timestamp units (samples) since the event's start. */
  readonly duration: number;
}

/** Reads a telephone-event payload; undefined when too short or not a DTMF event (16 and up). */
export function decodeTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const event = payload[0]!;
  if (event >= DTMF_DIGITS.length) return undefined;
  return {
    digit: DTMF_DIGITS[event]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f,
    duration: (payload[2]! << 8) | payload[3]!,
  };
}

/** A telephone-event payload (R bit zero; volume 10 = -10 dBm0 unless given). */
export function encodeTelephoneEvent(event: number, end: boolean, duration: number, volume = 10): Uint8Array {
  return Uint8Array.of(event, (end ? 0x80 : 0) | (volume & 0x3f), (duration >> 8) & 0xff, duration & 0xff);
}

/** One RFC 4733 packet to send: its payload, marker bit and the event's timestamp. */
export interface EventPacket {
  readonly payload: Uint8Array;
  readonly marker: boolean;
  readonly timestamp: number;
  /** The event's last packet: audio resumes at this timestamp. */
  readonly resumeAt: number | undefined;
}

/**
 * RFC 4733 digits to send, one 20 ms packet per tick: each digit is an event of `frames` packets (100 ms of
 * tone) with the same timestamp and a growing duration, and its end packet three times (2.5.1.4).
 */
export class DtmfSender {
  readonly #queue: string[] = [];
  #event: { event: number; ts: number; sent: number; ends: number } | undefined;

  constructor(
    readonly frameUnits: number,
    readonly frames = 5,
  ) {}

  /** Whether a digit is being sent or waits. */
  get busy(): boolean {
    return this.#event !== undefined || this.#queue.length > 0;
  }

  /** Queues the keys among `digits` (others are skipped). */
  enqueue(digits: string): void {
    for (const d of digits) if (dtmfEvent(d) >= 0) this.#queue.push(d.toUpperCase());
  }

  /** The next packet (call only while busy); a new digit's event starts at `ts`, the stream's timestamp. */
  next(ts: number): EventPacket {
    if (!this.#event) this.#event = { event: dtmfEvent(this.#queue.shift()!), ts, sent: 0, ends: 0 };
    const d = this.#event;
    const last = d.sent >= this.frames - 1;
    const duration = (Math.min(d.sent, this.frames - 1) + 1) * this.frameUnits;
    const packet = {
      payload: encodeTelephoneEvent(d.event, last, duration),
      marker: d.sent === 0,
      timestamp: d.ts,
      resumeAt: undefined as number | undefined,
    };
    d.sent++;
    if (last && ++d.ends >= 3) {
      this.#event = undefined;
      packet.resumeAt = (d.ts + this.frames * this.frameUnits) >>> 0;
    }
    return packet;
  }
}

/** RFC 4733 2.5.1: one key press is one timestamp, however many packets (and end packets) carry it. */
export class DtmfReceiver {
  #lastTs: number | undefined;

  /** The digit a packet starts, or undefined (a repeat of the event heard, or not a DTMF event). */
  accept(timestamp: number, payload: Uint8Array): string | undefined {
    if (timestamp === this.#lastTs) return undefined;
    const e = decodeTelephoneEvent(payload);
    if (!e) return undefined;
    this.#lastTs = timestamp;
    return e.digit;
  }
}
