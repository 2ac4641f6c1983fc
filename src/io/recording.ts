import { closeSync, openSync, readdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { wavHeader } from '../media/wav.ts';

/**
 * `{YYYYmmdd_HHMMSS}_{first 8 chars of the Call-ID}.wav` as the original named recordings, made safe: only
 * [A-Za-z0-9._-] survive, no ".." and no leading dot, so no Call-ID can place a file outside the folder.
 */
export function recordingName(callId: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}_${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  const id =
    callId
      .slice(0, 8)
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/\.{2,}/g, '_')
      .replace(/^\./, '_') || 'call';
  return `${stamp}_${id}.wav`;
}

/** Deletes recordings older than `days` (as the original did at start-up); returns how many. */
export function removeOldRecordings(dir: string, days: number, now = Date.now()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.endsWith('.wav')) continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > days * 86_400_000) {
        unlinkSync(path);
        removed++;
      }
    } catch {
      // vanished meanwhile
    }
  }
  return removed;
}

/**
 * A WAV streamed to disk as the call runs (no whole-call buffer): frames gather for one second, then go to
 * disk followed by a rewritten header, so a file whose process was killed is still a valid WAV up to its
 * last second. One write per second per call instead of fifty.
 */
export class WavRecorder {
  readonly path: string;
  readonly #fd: number;
  readonly #channels: number;
  #bytes = 0;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  #closed = false;

  constructor(dir: string, callId: string, opts: { stereo?: boolean; at?: Date } = {}) {
    const root = resolve(dir);
    const path = resolve(root, recordingName(callId, opts.at ?? new Date()));
    if (!path.startsWith(root + sep)) throw new Error(`recording path escapes ${root}`);
    this.path = path;
    this.#channels = opts.stereo ? 2 : 1;
    this.#fd = openSync(path, 'w');
    writeSync(this.#fd, wavHeader(8000, this.#channels, 0), 0, 44, 0);
  }

  get durationMs(): number {
    return ((this.#bytes + this.#pendingBytes) / 2 / this.#channels / 8000) * 1000;
  }

  /** One 20 ms frame: the caller (mono), or caller left and relay right (stereo). */
  write(caller: Int16Array, relay?: Int16Array): void {
    if (this.#closed) return;
    let data: Int16Array;
    if (this.#channels === 2) {
      data = new Int16Array(caller.length * 2);
      for (let i = 0; i < caller.length; i++) {
        data[2 * i] = caller[i]!;
        data[2 * i + 1] = relay?.[i] ?? 0;
      }
    } else data = caller;
    this.#pending.push(new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)));
    this.#pendingBytes += data.byteLength;
    if (this.#pendingBytes >= 8000 * 2 * this.#channels) this.flush();
  }

  /** Writes what is gathered, then the header that covers it. */
  flush(): void {
    if (this.#closed || this.#pendingBytes === 0) return;
    const chunk = new Uint8Array(this.#pendingBytes);
    let o = 0;
    for (const p of this.#pending) {
      chunk.set(p, o);
      o += p.length;
    }
    writeSync(this.#fd, chunk, 0, chunk.length, 44 + this.#bytes);
    this.#bytes += chunk.length;
    this.#pending = [];
    this.#pendingBytes = 0;
    writeSync(this.#fd, wavHeader(8000, this.#channels, this.#bytes), 0, 44, 0);
  }

  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    closeSync(this.#fd);
  }
}
