import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogLimiter } from '../../kernel/log-limiter.ts';
import { type Logger, silentLogger } from '../../kernel/logger.ts';

/** One webhook request waiting to be delivered. */
export interface SpoolEntry {
  /** Unique: sent as X-Relay-Event-Id, so a receiver can drop a repeat (delivery is at least once). */
  readonly id: string;
  readonly url: string;
  /** The exact JSON text to POST. */
  readonly body: string;
  attempts: number;
  /** When it was first spooled (epoch ms). */
  readonly firstAt: number;
}

/** One queued entry: on disk under `name`, or held in memory (`entry`) while the disk refuses writes. */
interface Slot {
  readonly name: string;
  entry: SpoolEntry | undefined;
}

/** How often a disk that keeps failing is logged. */
const LOG_EVERY_MS = 60_000;

/**
 * A bounded queue of webhook requests (EVENTS_SPOOL_DIR): one small JSON file per request, named so that the
 * names sort in the order they were added, written to a temporary name and renamed (a crash never leaves
 * half a file under a real name). What is in it when the relay stops is delivered after the next start. At
 * `max` entries the oldest is dropped to make room (and counted), so a receiver that stays down cannot fill
 * the disk.
 *
 * The disk may fail (full, read-only, gone): no file operation here ever throws. An entry the disk refuses
 * is held in memory instead (still within `max`), the failure is counted (`writeErrors`) and logged at most
 * once a minute, and every later add tries the disk again, first with the entries held in memory, oldest
 * first: when space returns the spool is on disk again by itself. Synchronous file calls: a few per call,
 * each a write of a kilobyte or two.
 */
export class Spool {
  readonly #slots: Slot[] = [];
  readonly #limiter = new LogLimiter(LOG_EVERY_MS);
  #seq = 0;
  /** Entries dropped because the spool was full. */
  dropped = 0;
  /** Failed file writes (each entry then waits in memory). */
  writeErrors = 0;

  constructor(
    readonly dir: string,
    readonly max: number,
    private readonly log: Logger = silentLogger,
    private readonly now: () => number = Date.now,
  ) {
    let names: string[] = [];
    try {
      mkdirSync(dir, { recursive: true });
      const files = readdirSync(dir);
      for (const f of files) if (f.endsWith('.tmp')) this.#rm(f);
      names = files.filter((f) => f.endsWith('.json')).sort();
    } catch (e) {
      this.#failed(e, 'cannot be read: events are held in memory until it can');
    }
    for (const name of names.slice(-max)) this.#slots.push({ name, entry: undefined });
    for (const name of names.slice(0, Math.max(0, names.length - max))) this.#rm(name);
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Entries held in memory because the disk refused them. */
  get inMemory(): number {
    let n = 0;
    for (const s of this.#slots) if (s.entry) n++;
    return n;
  }

  /** The oldest entry's name, if any. */
  get head(): string | undefined {
    return this.#slots[0]?.name;
  }

  /** Adds an entry; returns the names dropped to make room. Never throws. */
  add(entry: SpoolEntry): string[] {
    const dropped: string[] = [];
    while (this.#slots.length >= this.max) {
      const oldest = this.#slots.shift()!;
      if (!oldest.entry) this.#rm(oldest.name);
      this.dropped++;
      dropped.push(oldest.name);
    }
    const name = `${String(this.now()).padStart(15, '0')}-${String(this.#seq++ % 1e6).padStart(6, '0')}-${entry.id}.json`;
    // the disk again, oldest first: entries held in memory go back to it as soon as it takes them
    const slot: Slot = { name, entry };
    if (this.#flushMemory() && this.#write(name, entry)) {
      slot.entry = undefined;
      this.#recovered();
    }
    this.#slots.push(slot);
    return dropped;
  }

  /** An entry by name; undefined (and removed) when its file is gone or unreadable. */
  read(name: string): SpoolEntry | undefined {
    const slot = this.#slots.find((s) => s.name === name);
    if (slot?.entry) return slot.entry;
    try {
      const e = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as SpoolEntry;
      if (typeof e.id === 'string' && typeof e.url === 'string' && typeof e.body === 'string') return e;
    } catch {
      // fall through: a file we cannot use is removed
    }
    this.remove(name);
    return undefined;
  }

  /** Saves an entry's new attempt count (in memory when the disk refuses it). */
  update(name: string, entry: SpoolEntry): void {
    const slot = this.#slots.find((s) => s.name === name);
    if (!slot) return;
    if (slot.entry) slot.entry = entry;
    else if (!this.#write(name, entry)) {
      slot.entry = entry;
      this.#rm(name); // the old file has the old count; the entry now lives in memory
    }
  }

  remove(name: string): void {
    const i = this.#slots.findIndex((s) => s.name === name);
    const slot = i >= 0 ? this.#slots.splice(i, 1)[0] : undefined;
    if (!slot?.entry) this.#rm(name);
  }

  /** Writes the entries held in memory, oldest first, until the disk refuses one; true when none is left. */
  #flushMemory(): boolean {
    if (!this.#down) return true;
    try {
      mkdirSync(this.dir, { recursive: true }); // it may have been missing, or removed meanwhile
    } catch {
      // the write below reports it
    }
    for (const s of this.#slots) {
      if (!s.entry) continue;
      if (!this.#write(s.name, s.entry)) return false;
      s.entry = undefined;
    }
    return true;
  }

  #write(name: string, entry: SpoolEntry): boolean {
    const tmp = join(this.dir, `${name}.tmp`);
    try {
      writeFileSync(tmp, JSON.stringify(entry));
      renameSync(tmp, join(this.dir, name));
      return true;
    } catch (e) {
      this.writeErrors++;
      this.#rm(`${name}.tmp`);
      this.#failed(e, 'write failed: the event is held in memory');
      return false;
    }
  }

  /** Set when the disk refused a write (or the folder), until every entry is on disk again. */
  #down = false;

  #recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#limiter.reset();
    this.log.info({ dir: this.dir }, 'events spool: writing to disk again');
  }

  #failed(e: unknown, what: string): void {
    this.#down = true;
    this.#limiter.hit((suppressed) =>
      this.log.error(
        { dir: this.dir, err: (e as Error).message, suppressed, max: this.max },
        `events spool ${what} (EVENTS_SPOOL_MAX bounds it)`,
      ),
    );
  }

  #rm(name: string): void {
    try {
      rmSync(join(this.dir, name), { force: true });
    } catch {
      // a read-only or vanished disk: the file stays, which the next start tolerates
    }
  }
}
