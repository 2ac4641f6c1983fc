import { err, ok, type Result } from '../kernel/result.ts';
import { decodeG711 } from './g711.ts';

/** A decoded WAV: 16-bit samples per channel, interleaved channels folded to mono by averaging. */
export interface PcmAudio {
  readonly sampleRate: number;
  readonly samples: Int16Array;
}

const FORMAT = { PCM: 1, FLOAT: 3, ALAW: 6, MULAW: 7, EXTENSIBLE: 0xfffe } as const;

/**
 * Reads a WAV file (RIFF/WAVE): PCM 8/16/24/32-bit, 32-bit float, A-law and mu-law (format tags 6, 7),
 * WAVE_FORMAT_EXTENSIBLE with those subformats; mono or multichannel (mixed down to mono). Never throws.
 */
export function readWav(data: Uint8Array): Result<PcmAudio, string> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const tag = (o: number) => String.fromCharCode(data[o]!, data[o + 1]!, data[o + 2]!, data[o + 3]!);
  if (data.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return err('not a RIFF/WAVE file');
  let fmt: { format: number; channels: number; rate: number; bits: number } | undefined;
  let body: Uint8Array | undefined;
  let pos = 12;
  while (pos + 8 <= data.length) {
    const id = tag(pos);
    const size = view.getUint32(pos + 4, true);
    const start = pos + 8;
    const end = Math.min(start + size, data.length); // a file cut short (killed mid-write) keeps what it has
    if (id === 'fmt ' && size >= 16) {
      // a file cut short inside its fmt chunk has no usable format (reading on would throw)
      if (start + 16 > data.length) return err('file ends inside its fmt chunk');
      let format = view.getUint16(start, true);
      if (format === FORMAT.EXTENSIBLE && size >= 40 && start + 26 <= data.length)
        format = view.getUint16(start + 24, true);
      fmt = {
        format,
        channels: view.getUint16(start + 2, true),
        rate: view.getUint32(start + 4, true),
        bits: view.getUint16(start + 14, true),
      };
    } else if (id === 'data') {
      body = data.subarray(start, end);
      break;
    }
    pos = start + size + (size & 1);
  }
  if (!fmt) return err('no fmt chunk');
  if (!body) return err('no data chunk');
  if (fmt.channels < 1 || fmt.rate < 1000 || fmt.rate > 384_000)
    return err('unsupported channels or sample rate');
  const mono = toMono(fmt, body);
  return mono.ok ? ok({ sampleRate: fmt.rate, samples: mono.value }) : mono;
}

function toMono(
  fmt: { format: number; channels: number; bits: number },
  body: Uint8Array,
): Result<Int16Array, string> {
  let samples: Int16Array;
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (fmt.format === FORMAT.ALAW || fmt.format === FORMAT.MULAW) {
    samples = decodeG711(fmt.format === FORMAT.ALAW ? 'PCMA' : 'PCMU', body);
  } else if (fmt.format === FORMAT.PCM || fmt.format === FORMAT.FLOAT) {
    const width = fmt.bits / 8;
    if (![1, 2, 3, 4].includes(width)) return err(`unsupported bits per sample ${fmt.bits}`);
    const n = Math.floor(body.length / width);
    samples = new Int16Array(n);
    for (let i = 0; i < n; i++) {
      const o = i * width;
      let v: number;
      if (fmt.format === FORMAT.FLOAT) v = width === 4 ? Math.round(view.getFloat32(o, true) * 32767) : 0;
      else if (width === 1)
        v = (body[o]! - 128) << 8; // 8-bit WAV is unsigned
      else if (width === 2) v = view.getInt16(o, true);
      else if (width === 3) v = ((body[o + 2]! << 24) >> 16) | body[o + 1]!;
      else v = view.getInt32(o, true) >> 16;
      samples[i] = Math.max(-32768, Math.min(32767, v));
    }
  } else {
    return err(`unsupported WAV format tag ${fmt.format}`);
  }
  if (fmt.channels === 1) return ok(samples);
  const frames = Math.floor(samples.length / fmt.channels);
  const mono = new Int16Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < fmt.channels; c++) sum += samples[f * fmt.channels + c]!;
    mono[f] = Math.round(sum / fmt.channels);
  }
  return ok(mono);
}

/** A 44-byte PCM WAV header for `dataBytes` of 16-bit samples. */
export function wavHeader(sampleRate: number, channels: number, dataBytes: number): Uint8Array {
  const h = new Uint8Array(44);
  const v = new DataView(h.buffer);
  const put = (o: number, s: string) => {
    for (let i = 0; i < 4; i++) h[o + i] = s.charCodeAt(i);
  };
  put(0, 'RIFF');
  v.setUint32(4, 36 + dataBytes, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * channels * 2, true);
  v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true);
  put(36, 'data');
  v.setUint32(40, dataBytes, true);
  return h;
}
