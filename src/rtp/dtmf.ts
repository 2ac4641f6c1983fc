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
