import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { InspectionEvent } from 'xstate';

/** One line of a call trace (JSON lines in CALL_TRACE_DIR). */
export type TraceLine =
  | { t: number; callId: string; kind: 'event'; event: string; data?: Record<string, unknown> }
  | { t: number; callId: string; kind: 'action'; action: string; params?: unknown }
  | { t: number; callId: string; kind: 'state'; state: string; done: boolean };

/** A Call-ID as a file name: nothing that could leave the folder (no "/", "..", NUL or controls). */
export const safeName = (s: string): string =>
  s
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 80);

export const stateName = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : (Object.entries(v as object).map(([k, sub]) => `${k}.${stateName(sub)}`)[0] ?? '');

/**
 * Writes each call's actor events, actions and states as JSON lines, one file per call, from xstate's
 * inspection hook. `scripts/trace-to-mermaid.ts` turns a file into a sequence diagram.
 */
export class CallTraceWriter {
  readonly #dir: string;
  readonly #open = new Map<string, WriteStream>();
  readonly #ending = new Set<Promise<void>>();

  constructor(dir: string) {
    this.#dir = dir;
    mkdirSync(dir, { recursive: true });
  }

  record(ev: InspectionEvent, callId: string): void {
    const t = Date.now();
    let line: TraceLine | undefined;
    if (ev.type === '@xstate.event' && !ev.event.type.startsWith('xstate.')) {
      const { type, ...data } = ev.event as { type: string } & Record<string, unknown>;
      line = { t, callId, kind: 'event', event: type, ...(Object.keys(data).length > 0 ? { data } : {}) };
    } else if (ev.type === '@xstate.action') {
      const a = ev.action as { type: string; params?: unknown };
      if (a.type.startsWith('xstate.')) return;
      line = {
        t,
        callId,
        kind: 'action',
        action: a.type,
        ...(a.params !== undefined ? { params: a.params } : {}),
      };
    } else if (ev.type === '@xstate.snapshot') {
      const s = ev.snapshot as { value?: unknown; status?: string };
      line = { t, callId, kind: 'state', state: stateName(s.value), done: s.status === 'done' };
    }
    if (!line) return;
    let out = this.#open.get(callId);
    if (!out) {
      const stamp = new Date(t).toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
      out = createWriteStream(join(this.#dir, `${stamp}_${safeName(callId)}.jsonl`), { flags: 'a' });
      out.on('error', () => {}); // a full disk must not take calls down
      this.#open.set(callId, out);
    }
    out.write(`${JSON.stringify(line)}\n`);
    if (line.kind === 'state' && line.done) {
      this.#end(out);
      this.#open.delete(callId);
    }
  }

  /** Resolves once every trace, including those of calls that already ended, is on disk. */
  close(): Promise<void> {
    for (const s of this.#open.values()) this.#end(s);
    this.#open.clear();
    return Promise.all(this.#ending).then(() => undefined);
  }

  #end(out: WriteStream): void {
    const done: Promise<void> = new Promise<void>((r) => {
      out.once('error', () => r());
      out.end(() => r());
    }).then(() => {
      this.#ending.delete(done);
    });
    this.#ending.add(done);
  }
}
