import type { SipMessage } from '../../src/sip/message/types.ts';
import { TransactionLayer } from '../../src/sip/transaction/layer.ts';
import { type TimerTable, timerTable } from '../../src/sip/transaction/timers.ts';
import { ManualClock } from './manual-clock.ts';

/** A transaction layer on a manual clock whose transport records what went out and when. */
export function txHarness(timers: TimerTable = timerTable()) {
  const clock = new ManualClock();
  const wire: Array<{ at: number; msg: SipMessage }> = [];
  const layer = new TransactionLayer({
    clock,
    timers,
    transport: { send: async (msg) => void wire.push({ at: clock.now(), msg }) },
  });
  /** "time:status" or "time:METHOD" for everything sent, in order. */
  const timeline = () =>
    wire.map((w) => (w.msg.kind === 'response' ? `${w.at}:${w.msg.status}` : `${w.at}:${w.msg.method}`));
  return { clock, wire, layer, timeline };
}
