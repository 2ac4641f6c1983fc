import { readFileSync } from 'node:fs';
import type { Logger } from '../../kernel/logger.ts';
import { resample } from '../../media/resample.ts';
import { readWav } from '../../media/wav.ts';

/**
 * Loads a WAV (the greeting, the music on hold) as 8 kHz mono; a missing or unreadable file is a warning
 * and no audio.
 */
export function loadGreeting(path: string, log: Logger, what = 'greeting'): Int16Array | undefined {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    log.warn({ path, err: (e as NodeJS.ErrnoException).code }, `no ${what}: calls go on without one`);
    return undefined;
  }
  const wav = readWav(data);
  if (!wav.ok) {
    log.warn({ path, err: wav.error }, `${what} unreadable: calls go on without one`);
    return undefined;
  }
  const pcm = resample(wav.value.samples, wav.value.sampleRate, 8000);
  log.info({ path, seconds: (pcm.length / 8000).toFixed(2), from: wav.value.sampleRate }, `${what} loaded`);
  return pcm;
}
