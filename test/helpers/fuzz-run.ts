import type { Logger } from '../../src/kernel/logger.ts';
import type { Relay } from '../../src/relay.ts';
import { countingClock } from './counting-clock.ts';
import { type FuzzReport, fuzz } from './fuzz.ts';
import { startTestRelay } from './relay.ts';

export interface FuzzRunResult {
  readonly report: FuzzReport;
  /** What is left once every timer had its chance to run out (all zero when nothing leaked). */
  readonly left: Record<'calls' | 'dialogs' | 'transactions' | 'timers' | 'media' | 'ports', number>;
  /** Errors the relay logged: a datagram that crashed the SIP core, a call actor that failed. */
  readonly errors: string[];
  readonly heapMb: number;
}

/**
 * A relay with short timers (T1 50 ms: transactions end 3.2 s after their answer; RTP start timeout 1 s),
 * fuzzed with `messages` messages, then given time to end every call and transaction.
 */
export async function fuzzRun(messages: number, seed: number, drainMs = 20_000): Promise<FuzzRunResult> {
  const errors: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (obj, msg) => errors.push(`${msg ?? ''} ${JSON.stringify(obj).slice(0, 300)}`),
    child: () => log,
  };
  const clock = countingClock();
  const relay: Relay = await startTestRelay(
    {
      SIP_T1_MS: '50',
      SIP_T2_MS: '400',
      SIP_T4_MS: '500',
      RTP_PORT_START: '43000',
      RTP_PORT_END: '43999',
      MAX_CALLS: '400',
      MAX_RINGING_PER_SOURCE: '400',
      RTP_START_TIMEOUT_S: '1',
      RTP_TIMEOUT_S: '2',
      RING_TIMEOUT_MS: '2000',
    },
    { log, clock },
  );
  try {
    const report = await fuzz(relay, { messages, seed });
    const left = () => ({
      calls: relay.calls.size,
      dialogs: relay.calls.dialogs,
      transactions: relay.core.layer.size,
      timers: clock.active,
      media: relay.media.size,
      ports: relay.ports.inUse,
    });
    const end = performance.now() + drainMs;
    while (performance.now() < end && Object.values(left()).some((v) => v > 0))
      await new Promise((r) => setTimeout(r, 200));
    return { report, left: left(), errors, heapMb: process.memoryUsage().heapUsed / 2 ** 20 };
  } finally {
    await relay.close();
  }
}
