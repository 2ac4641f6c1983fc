import { Worker } from 'node:worker_threads';

export interface MetronomeEvents {
  /** The clock thread runs: beats follow. `tid` is its kernel thread id (Linux), for its priority. */
  ready(tid: number | undefined): void;
  /** A deadline passed; `lateMs` is how late the clock thread itself woke for it. */
  beat(lateMs: number): void;
  /** The clock thread could not start or died: no more beats. */
  failed(e: Error): void;
}

/**
 * Wakes the event loop on sub-millisecond deadlines. Node's timers count whole milliseconds (libuv's loop
 * clock and epoll's timeout), so setTimeout wakes up to 1 ms after the deadline. A worker thread sleeps in
 * Atomics.wait, whose timeout is a futex deadline with microsecond precision, and at each deadline posts a
 * message, which wakes the main loop through its async handle at once.
 *
 * The deadlines are `epoch + k` ms for every whole k whose slot (k mod `slots`) is marked busy; while no
 * slot is busy the thread sleeps and posts nothing. Both threads read the same monotonic clock
 * (process.hrtime), so the epoch is given in that clock (hrMs).
 */
export class Metronome {
  readonly #ctl: Int32Array; // [0] stop flag, [1] change counter (what the thread waits on), [2..] busy
  readonly #worker: Worker;
  #stopped = false;

  constructor(epochHr: number, slots: number, on: MetronomeEvents) {
    this.#ctl = new Int32Array(new SharedArrayBuffer(4 * (2 + slots)));
    // plain JavaScript, so the thread needs no TypeScript loader
    this.#worker = new Worker(THREAD, { eval: true, workerData: { ctl: this.#ctl, epochHr, slots } });
    this.#worker.on('message', (m: number | { ready: number | null }) =>
      typeof m === 'number' ? on.beat(m) : on.ready(m.ready ?? undefined),
    );
    this.#worker.on('error', (e) => on.failed(e));
    this.#worker.on('exit', (code) => {
      if (!this.#stopped) on.failed(new Error(`clock thread exited (${code})`));
    });
    this.#worker.unref(); // never what keeps the process alive
  }

  /** Marks slot `i` busy (its deadlines are announced) or idle. */
  set(i: number, busy: boolean): void {
    Atomics.store(this.#ctl, 2 + i, busy ? 1 : 0);
    this.#changed();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    Atomics.store(this.#ctl, 0, 1);
    this.#changed();
    await this.#worker.terminate();
  }

  #changed(): void {
    Atomics.add(this.#ctl, 1, 1);
    Atomics.notify(this.#ctl, 1);
  }
}

/** process.hrtime in milliseconds: the clock both threads share. */
export function hrMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { ctl, epochHr, slots } = workerData;
const now = () => { const [s, ns] = process.hrtime(); return s * 1e3 + ns / 1e6; };
const anyBusy = () => { for (let i = 0; i < slots; i++) if (Atomics.load(ctl, 2 + i)) return true; return false; };
let tid = null;
try { tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()) || null; } catch {}
parentPort.postMessage({ ready: tid });
let k = Math.ceil(now() - epochHr);
while (Atomics.load(ctl, 0) === 0) {
  const seen = Atomics.load(ctl, 1);
  if (!anyBusy()) {
    Atomics.wait(ctl, 1, seen);
    k = Math.max(k, Math.ceil(now() - epochHr));
    continue;
  }
  while (Atomics.load(ctl, 2 + (k % slots)) === 0) k++;
  const wait = epochHr + k - now();
  // held up for long (the machine stalled): no burst of stale beats, the main side catches up anyway
  if (wait < -20) { k = Math.ceil(now() - epochHr); continue; }
  // a change of the busy slots (or stop) ends the sleep, and the next deadline is worked out again
  if (wait > 0 && Atomics.wait(ctl, 1, seen, wait) !== 'timed-out') continue;
  parentPort.postMessage(now() - epochHr - k);
  k++;
}
`;
