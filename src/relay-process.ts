import { existsSync, mkdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import type { Config } from './config/index.ts';
import { loadGreeting } from './io/media/audio-file.ts';
import { currentThreadId, setThreadPriority, type ThreadPriority } from './io/media/priority.ts';
import { removeOldRecordings } from './io/media/recording.ts';
import type { Logger } from './kernel/logger.ts';
import { chime } from './media/chime.ts';
import type { RelaySettings } from './relay-settings.ts';

// What the relay's process holds and finds on disk at start-up: thread priority, the recordings folder,
// the greeting.

/**
 * PROCESS_NICE and REALTIME_PRIORITY for the main thread (the event loop: SIP, RTP, WebSocket), as media
 * servers offer (Asterisk -p, FreeSWITCH -hp/-rp): on a busy machine the pacing thread is woken sooner.
 * The RTP clock thread gets the same when it starts (MediaManager). Without the privilege (below 0 or
 * real-time: root, CAP_SYS_NICE, or for real-time an RLIMIT_RTPRIO at least that high) a warning, and the
 * relay goes on at normal priority.
 */
export function setMainThreadPriority(p: ThreadPriority, log: Logger): () => void {
  if (p.nice === undefined && p.realtime === undefined) return () => {};
  const niceBefore = getPriority(0);
  const tid = currentThreadId();
  const failed = setThreadPriority(tid, p);
  if (failed.nice)
    log.warn(
      { nice: p.nice, err: failed.nice },
      'could not set the process priority (below 0 needs root or CAP_SYS_NICE): running at normal priority',
    );
  else if (p.nice !== undefined) log.info({ nice: p.nice }, 'process priority set');
  if (failed.realtime)
    log.warn(
      { priority: p.realtime, err: failed.realtime },
      'could not set real-time priority (needs root, CAP_SYS_NICE or ulimit -r): running at normal scheduling',
    );
  else if (p.realtime !== undefined)
    log.info({ priority: p.realtime }, 'main thread runs real-time (SCHED_RR)');
  // close() gives the thread back as it was (the relay may run inside a longer-lived process)
  return () => {
    setThreadPriority(tid, {
      ...(p.nice !== undefined && !failed.nice && { nice: niceBefore }),
      ...(p.realtime !== undefined && !failed.realtime && { realtime: 0 }),
    });
  };
}

/** RECORDING_DIR exists, and recordings older than MAX_RECORDING_AGE_DAYS are gone. */
export function prepareRecordingDir(config: Config, log: Logger): void {
  mkdirSync(config.RECORDING_DIR, { recursive: true });
  const removed = removeOldRecordings(config.RECORDING_DIR, config.MAX_RECORDING_AGE_DAYS);
  if (removed > 0) log.info({ removed, days: config.MAX_RECORDING_AGE_DAYS }, 'old recordings removed');
}

/**
 * The greeting: GREETING_PATH's WAV (`none`: no greeting), else OUTPUT_DIR/transcode/greeting.wav, else, on a
 * fresh install with neither, the built-in chime, so the first caller hears that the relay answered.
 */
export function greeting(settings: RelaySettings, log: Logger): Int16Array | undefined {
  const path = settings.greetingPath;
  if (path === undefined) return undefined;
  if (settings.greetingIsDefault && !existsSync(path)) {
    log.info(
      { path },
      'no greeting file: callers hear the built-in chime (set GREETING_PATH to a WAV, or none)',
    );
    return chime();
  }
  return loadGreeting(path, log);
}
