import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freeSipPort, freeUdpPort, type RunResult, run, sippStat } from './peers.ts';

export const SCENARIOS = resolve(import.meta.dirname, '../peers/sipp');

export interface SippRun extends RunResult {
  readonly dir: string;
  stat(column: string): string | undefined;
  /** Contents of the -trace_msg log (empty when not traced). */
  messages(): string;
  /** Contents of the -trace_err log: why calls failed (unexpected messages and the like). */
  errors(): string;
}

/**
 * Runs sipp in its own scratch folder (it writes trace files into the CWD) with a hard timeout, so a hung
 * peer becomes a failure. `scenario` is a built-in name (uac, uas) or a file in test/peers/sipp.
 */
export async function sipp(
  scenario: string,
  target: string | undefined,
  extra: string[],
  timeoutMs = 60_000,
  port?: number,
): Promise<SippRun> {
  const dir = mkdtempSync(join(tmpdir(), 'sipp-'));
  const sc = scenario.endsWith('.xml') ? ['-sf', join(SCENARIOS, scenario)] : ['-sn', scenario];
  const args = [
    ...sc,
    '-i',
    '127.0.0.1',
    '-p',
    // over TCP sipp listens on this port too: one free for both (and clear of TIME_WAIT)
    String(port ?? (extra.includes('-t') ? await freeSipPort() : await freeUdpPort())),
    '-nostdin',
    '-trace_err',
    '-trace_stat',
    '-fd',
    '1',
    '-timeout',
    `${Math.floor(timeoutMs / 1000) - 5}s`,
    '-timeout_error',
    ...extra,
    ...(target ? [target] : []),
  ];
  const r = await run('sipp', args, { cwd: dir, timeoutMs });
  return {
    ...r,
    dir,
    stat: (column) => sippStat(dir, column),
    messages: () => {
      const f = readdirSync(dir).find((n) => n.endsWith('_messages.log'));
      return f ? readFileSync(join(dir, f), 'utf8') : '';
    },
    errors: () => {
      const f = readdirSync(dir).find((n) => n.endsWith('_errors.log'));
      return f ? readFileSync(join(dir, f), 'utf8') : '';
    },
  };
}

/**
 * Callers that talk and wait for the relay to hang up (uac-wait-bye.xml): `calls` at once, each streaming
 * `audio` (headerless PCMU, looped `loops` times; -1 = forever) from one media port.
 */
export async function talkingCallers(
  target: string,
  audio: string,
  opts: { calls?: number; loops?: number; timeoutMs?: number } = {},
): Promise<SippRun> {
  const n = String(opts.calls ?? 1);
  const media = String(await freeUdpPort());
  const rtp = `${audio},${opts.loops ?? -1},0`;
  return sipp(
    'uac-wait-bye.xml',
    target,
    ['-s', 'relay', '-m', n, '-l', n, '-r', '100', '-mi', '127.0.0.1', '-mp', media, '-key', 'rtp', rtp],
    opts.timeoutMs ?? 30_000,
  );
}

/**
 * A sipp caller of the relay running `scenario` (a file in test/peers/sipp), every message traced: its media
 * on a free port, `voice` (headerless PCMU) as its RTP stream (`-key rtp`, `loops` times, -1 = forever),
 * and further `-key name value` pairs in `keys`. It calls `service` (the Request-URI's user; default relay).
 */
export async function relayCaller(
  scenario: string,
  relaySipPort: number,
  voice: string | undefined,
  o: { keys?: string[]; loops?: number; timeoutMs?: number; service?: string } = {},
): Promise<SippRun> {
  const media = String(await freeUdpPort());
  return sipp(
    scenario,
    `127.0.0.1:${relaySipPort}`,
    [
      ...['-s', o.service ?? 'relay', '-m', '1', '-mi', '127.0.0.1', '-mp', media, '-trace_msg'],
      ...(voice ? ['-key', 'rtp', `${voice},${o.loops ?? -1},0`] : []),
      ...(o.keys ?? []),
    ],
    o.timeoutMs ?? 30_000,
  );
}
