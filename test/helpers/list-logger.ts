import type { Logger } from '../../src/kernel/logger.ts';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly obj: Record<string, unknown>;
}

/** A logger that keeps every line (level, message, fields, child bindings merged) for a test to read. */
export function listLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bound: object): Logger => {
    const at =
      (level: LogLine['level']) =>
      (obj: object, msg = '') =>
        lines.push({ level, msg, obj: { ...bound, ...obj } });
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (b) => make({ ...bound, ...b }),
    };
  };
  return { log: make({}), lines };
}
