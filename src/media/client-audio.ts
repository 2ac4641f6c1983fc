import { decodeG711 } from './g711.ts';

/** Audio a client sends to be played into a call: G.711 at 8 kHz, or 16-bit PCM at 8, 16 or 24 kHz. */
export type ClientAudioFormat = 'pcmu' | 'pcma' | 'l16';

/** Little-endian 16-bit PCM bytes as samples (an odd trailing byte is ignored: callers refuse it first). */
export function l16Samples(bytes: Uint8Array): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pcm = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(i * 2, true);
  return pcm;
}

/**
 * How long base64 audio of this length plays, in ms, before any of it is decoded: queue caps are checked on
 * the message's length, so an over-long message costs no decoding or resampling.
 */
export function base64AudioMs(base64Length: number, format: ClientAudioFormat, sampleRate: number): number {
  const bytes = Math.floor((base64Length * 3) / 4);
  return ((format === 'l16' ? bytes / 2 : bytes) / sampleRate) * 1000;
}

/** Why audio in this format cannot be played, or undefined when it can. */
export function clientAudioProblem(
  format: ClientAudioFormat,
  sampleRate: number,
  bytes: Uint8Array,
): string | undefined {
  if (format !== 'l16' && sampleRate !== 8000) return 'G.711 is 8000 Hz';
  if (format === 'l16' && bytes.length % 2 !== 0) return 'odd byte count: l16 is 16-bit PCM';
  return undefined;
}

/**
 * 8 kHz audio (G.711 or l16) as samples for the call's playout queue. 16 and 24 kHz l16 goes through
 * narrowbandInSlices() instead, which yields to the event loop between quarter seconds.
 */
export function samplesAt8k(format: ClientAudioFormat, bytes: Uint8Array): Int16Array {
  return format === 'l16' ? l16Samples(bytes) : decodeG711(format === 'pcma' ? 'PCMA' : 'PCMU', bytes);
}
