import { type FSWatcher, realpathSync, statSync, watch } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../kernel/logger.ts';

/** What identifies one version of a file: where its path leads, and that file's size and times. */
function signature(path: string): string {
  try {
    const real = realpathSync(path);
    const st = statSync(real);
    return `${real} ${st.size} ${st.mtimeMs} ${st.ctimeMs} ${st.ino}`;
  } catch (e) {
    return `missing: ${(e as Error).message}`;
  }
}

/**
 * Watches one file for new versions, wherever they come from: an editor's save (a rename in its folder),
 * an in-place write, and a symlink swapped under it, as Kubernetes does with a ConfigMap (routes.yaml ->
 * ..data/routes.yaml, and ..data re-pointed at a new folder). Both the folder of the path and the folder of
 * the file it resolves to are watched, and any event in either is checked against the file's signature
 * (resolved path, size, times, inode), so only a real change calls `changed` (debounced 200 ms). When a
 * change moves the resolved file to another folder, that folder is watched from then on.
 */
export class FileWatch {
  readonly #watchers = new Map<string, FSWatcher>();
  #debounce: NodeJS.Timeout | undefined;
  #last: string;
  #closed = false;

  constructor(
    private readonly path: string,
    private readonly changed: () => void,
    private readonly log: Logger,
  ) {
    this.#last = signature(path);
    this.#follow();
  }

  /** After a reload forced from outside (SIGUSR2): what is on disk now is the version in force. */
  seen(): void {
    this.#last = signature(this.path);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#debounce);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  /** Watches the folders the path goes through now (and stops watching those it no longer does). */
  #follow(): void {
    const dirs = new Set([dirname(this.path)]);
    try {
      dirs.add(dirname(realpathSync(this.path)));
    } catch {
      // the file is gone for the moment: its folder is still watched
    }
    for (const [dir, w] of this.#watchers)
      if (!dirs.has(dir)) {
        w.close();
        this.#watchers.delete(dir);
      }
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue;
      try {
        const w = watch(dir, () => this.#poke());
        w.on('error', (e) => this.log.warn({ path: this.path, dir, err: e.message }, 'watching failed'));
        this.#watchers.set(dir, w);
      } catch (e) {
        this.log.warn(
          { path: this.path, dir, err: (e as Error).message },
          'cannot watch; reload with SIGUSR2',
        );
      }
    }
  }

  #poke(): void {
    clearTimeout(this.#debounce);
    // an editor's save or a symlink swap is several events: look once they are over
    this.#debounce = setTimeout(() => {
      if (this.#closed) return;
      const now = signature(this.path);
      if (now === this.#last) return;
      this.#last = now;
      this.#follow();
      this.changed();
    }, 200);
  }
}
