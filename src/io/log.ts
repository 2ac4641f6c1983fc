import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export interface LogOptions {
  readonly level: string;
  /** JSON lines go here (SIP_LOG_FILE); empty string = no file. */
  readonly file: string;
  /** Readable lines on stdout (default true). */
  readonly console?: boolean;
}

export interface AppLogger {
  readonly log: Logger;
  /**
   * Writes out what is buffered; call before exit. It waits (up to a second) for the log file to be open:
   * exiting before that made pino's exit hook throw ("sonic boom is not ready yet") over the real error.
   */
  flush(): Promise<void>;
}

/**
 * pino with two outputs: JSON lines to the log file (for machines) and readable lines on the console (for
 * people). Child loggers add bindings such as the Call-ID: `log.child({ callId })`.
 */
export function createLogger(opts: LogOptions): AppLogger {
  const streams: pino.StreamEntry[] = [];
  let file: (pino.DestinationStream & { flushSync?: () => void }) | undefined;
  let ready: Promise<void> = Promise.resolve();
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true });
    file = pino.destination({ dest: opts.file, sync: false, mkdir: true });
    const f = file as unknown as { once(e: string, fn: () => void): void };
    ready = new Promise<void>((resolve) => {
      f.once('ready', resolve);
      f.once('error', resolve);
      setTimeout(resolve, 1000).unref();
    });
    streams.push({ level: opts.level as pino.Level, stream: file });
  }
  if (opts.console !== false) {
    const consoleStream = pretty({
      colorize: process.stdout.isTTY === true,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: 1,
      sync: true,
    });
    streams.push({ level: opts.level as pino.Level, stream: consoleStream });
  }
  const log = pino(
    { level: opts.level, base: { pid: process.pid } },
    streams.length > 0 ? pino.multistream(streams) : pino.destination('/dev/null'),
  );
  return {
    log,
    async flush() {
      await ready;
      try {
        file?.flushSync?.();
      } catch {
        // a destination that is not ready yet has nothing to flush
      }
    },
  };
}
