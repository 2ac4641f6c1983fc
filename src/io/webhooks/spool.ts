import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * A bounded on-disk queue of webhook requests (EVENTS_SPOOL_DIR): one small JSON file per request, named so
 * that the names sort in the order they were added, written to a temporary name and renamed (a crash never
 * leaves half a file under a real name). What is in it when the relay stops is delivered after the next
 * start. At `max` entries the oldest is dropped to make room (and counted), so a receiver that stays down
 * cannot fill the disk. Synchronous file calls: a few per call, each a write of a kilobyte or two.
 */
export class Spool {
  readonly #names: string[];
  #seq = 0;
  /** Entries dropped because the spool was full. */
  dropped = 0;

  constructor(
    readonly dir: string,
    readonly max: number,
    private readonly now: () => number = Date.now,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(dir)) if (f.endsWith('.tmp')) rmSync(join(dir, f), { force: true });
    this.#names = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  }

  get size(): number {
    return this.#names.length;
  }

  /** The oldest entry's name, if any. */
  get head(): string | undefined {
    return this.#names[0];
  }

  /** Adds an entry; returns the names dropped to make room. */
  add(entry: SpoolEntry): string[] {
    const dropped: string[] = [];
    while (this.#names.length >= this.max) {
      const oldest = this.#names.shift()!;
      rmSync(join(this.dir, oldest), { force: true });
      this.dropped++;
      dropped.push(oldest);
    }
    const name = `${String(this.now()).padStart(15, '0')}-${String(this.#seq++ % 1e6).padStart(6, '0')}-${entry.id}.json`;
    this.#write(name, entry);
    this.#names.push(name);
    return dropped;
  }

  /** An entry by name; undefined (and removed) when its file is gone or unreadable. */
  read(name: string): SpoolEntry | undefined {
    try {
      const e = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as SpoolEntry;
      if (typeof e.id === 'string' && typeof e.url === 'string' && typeof e.body === 'string') return e;
    } catch {
      // fall through: a file we cannot use is removed
    }
    this.remove(name);
    return undefined;
  }

  /** Saves an entry's new attempt count. */
  update(name: string, entry: SpoolEntry): void {
    if (this.#names.includes(name)) this.#write(name, entry);
  }

  remove(name: string): void {
    const i = this.#names.indexOf(name);
    if (i >= 0) this.#names.splice(i, 1);
    rmSync(join(this.dir, name), { force: true });
  }

  #write(name: string, entry: SpoolEntry): void {
    const tmp = join(this.dir, `${name}.tmp`);
    writeFileSync(tmp, JSON.stringify(entry));
    renameSync(tmp, join(this.dir, name));
  }
}
