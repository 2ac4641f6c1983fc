import {
  close,
  closeSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  write,
  writeSync,
} from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { wavHeader } from '../../media/wav.ts';

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
 *
 * The header only ever counts bytes the disk took: a failed or short write (a full disk) stops the
 * recording there, is reported once through `onError`, and the header is rewritten to what is really in
 * the file. A recording with no audio at all is removed when it is closed.
 */
export class WavRecorder {
  readonly path: string;
  readonly #fd: number;
  readonly #channels: number;
  /** Data bytes handed to the disk so far (the next write's offset). */
  #bytes = 0;
  /** Data bytes the disk confirmed (what the header may claim). */
  #written = 0;
  #buf: Int16Array;
  #fill = 0;
  #closed = false;
  #failed: Error | undefined;
  readonly #onError: ((e: Error) => void) | undefined;

  constructor(
    dir: string,
    callId: string,
    opts: { stereo?: boolean; at?: Date; onError?: (e: Error) => void } = {},
  ) {
    const root = resolve(dir);
    const path = resolve(root, recordingName(callId, opts.at ?? new Date()));
    if (!path.startsWith(root + sep)) throw new Error(`recording path escapes ${root}`);
    this.path = path;
    this.#channels = opts.stereo ? 2 : 1;
    this.#onError = opts.onError;
    this.#buf = new Int16Array(8000 * this.#channels);
    this.#fd = openSync(path, 'w');
    try {
      writeSync(this.#fd, wavHeader(8000, this.#channels, 0), 0, 44, 0);
    } catch (e) {
      // no room even for the header: leave no empty file behind
      closeSync(this.#fd);
      rmSync(path, { force: true });
      throw e;
    }
  }

  get durationMs(): number {
    return ((this.#bytes + this.#fill * 2) / 2 / this.#channels / 8000) * 1000;
  }

  /** Why the recording stopped early (a write failed), if it did. */
  get failed(): Error | undefined {
    return this.#failed;
  }

  /** Milliseconds of audio the disk took (what the finished file holds). */
  get savedMs(): number {
    return (this.#written / 2 / this.#channels / 8000) * 1000;
  }

  /** One 20 ms frame: the caller (mono), or caller left and relay right (stereo). */
  write(caller: Int16Array, relay?: Int16Array): void {
    if (this.#closed || this.#failed) return;
    // frames go straight into a one-second buffer: one allocation and one disk write per second per call
    const b = this.#buf;
    let o = this.#fill;
    if (this.#channels === 2) {
      for (let i = 0; i < caller.length; i++) {
        b[o++] = caller[i]!;
        b[o++] = relay?.[i] ?? 0;
      }
    } else {
      b.set(caller, o);
      o += caller.length;
    }
    this.#fill = o;
    if (this.#fill + caller.length * this.#channels > b.length) this.flush();
  }

  /**
   * Writes what is gathered, then the header that covers what the disk took. The writes run on libuv's
   * thread pool, one after the other (never blocking the event loop that paces RTP).
   */
  flush(): void {
    if (this.#closed || this.#fill === 0 || this.#failed) return;
    const full = this.#buf;
    const chunk = new Uint8Array(full.buffer, 0, this.#fill * 2);
    const at = 44 + this.#bytes;
    this.#bytes += chunk.length;
    // buffers are reused once written: allocating 16 KB per call per second of external memory made V8
    // run full garbage collections every few seconds at 500 calls (measured: pauses up to 10 ms)
    this.#buf = this.#spare.pop() ?? new Int16Array(8000 * this.#channels);
    this.#fill = 0;
    this.#queue = this.#queue.then(async () => {
      if (!this.#failed) {
        const frame = 2 * this.#channels;
        const n = await this.#write(chunk, at);
        this.#written += n - (n % frame);
        if (n < chunk.length && !this.#failed) this.#fail(new Error('short write (disk full?)'));
      }
      this.#spare.push(full);
      await this.#write(wavHeader(8000, this.#channels, this.#written), 0);
    });
  }

  /** Flushes, then closes the file once every write is done (removed if it holds no audio); resolves then. */
  close(): Promise<void> {
    if (this.#closed) return this.#done;
    this.flush();
    this.#closed = true;
    this.#done = this.#queue.then(
      () =>
        new Promise<void>((r) =>
          close(this.#fd, () => {
            if (this.#written === 0) rmSync(this.path, { force: true });
            r();
          }),
        ),
    );
    return this.#done;
  }

  /** Whether close() removed the file (it held no audio). */
  get removed(): boolean {
    return this.#closed && this.#written === 0;
  }

  #queue: Promise<void> = Promise.resolve();
  #done: Promise<void> = Promise.resolve();

  /** One positioned write; resolves with the bytes the disk took (0 after an error, which is reported). */
  #write(data: Uint8Array, position: number): Promise<number> {
    return new Promise((resolve) =>
      write(this.#fd, data, 0, data.length, position, (err, n) => {
        if (err) {
          this.#fail(err);
          resolve(0);
        } else resolve(n);
      }),
    );
  }

  #fail(e: Error): void {
    if (this.#failed) return;
    this.#failed = e;
    this.#onError?.(e);
  }

  readonly #spare: Int16Array[] = [];
}

/**
 * A call's recording, opened where RECORDING_DIR says; a failure to open it (a full or read-only disk) is
 * logged and the call goes on unrecorded, and a failure while recording stops it where it is.
 */
export function openRecording(
  dir: string,
  callId: string,
  stereo: boolean,
  log: { error(fields: object, msg: string): void },
): WavRecorder | undefined {
  try {
    return new WavRecorder(dir, callId, {
      stereo,
      onError: (err) =>
        log.error({ err: err.message }, 'recording failed: it stops here, the file keeps what was written'),
    });
  } catch (err) {
    log.error({ err: String(err) }, 'cannot record this call');
    return undefined;
  }
}
