import type { SipResponse } from '../message/types.ts';
import { type Clock, TimerSet } from '../transaction/clock.ts';
import type { TimerBase } from '../transaction/timers.ts';
import {
  type AckWait,
  type AckWaitEffect,
  type AckWaitEvent,
  ackWaitReduce,
  ackWaitStart,
} from './ack-wait.ts';

interface Entry {
  state: AckWait;
  readonly timers: TimerSet<string>;
  readonly resend: (response: SipResponse) => void;
  readonly onTimeout: () => void;
}

/**
 * Hosts the ack-wait reducers of one dialog, one per 2xx awaiting its ACK (keyed by CSeq number), and runs
 * their effects on the injected clock: the UAS half of RFC 3261 13.3.1.4 for a call session.
 */
export class AckWaits {
  readonly #clock: Clock;
  readonly #t: TimerBase;
  readonly #waits = new Map<number, Entry>();

  constructor(clock: Clock, t: TimerBase) {
    this.#clock = clock;
    this.#t = t;
  }

  /**
   * Waits for the ACK of the 2xx just sent: `resend` passes it to the transport again (through the INVITE
   * server transaction, RFC 6026 Accepted state), `onTimeout` is told after 64*T1 without the ACK.
   */
  wait(cseq: number, response: SipResponse, resend: Entry['resend'], onTimeout: Entry['onTimeout']): void {
    this.#waits.get(cseq)?.timers.clearAll();
    const [state, effects] = ackWaitStart(cseq, response, this.#t);
    const entry: Entry = { state, timers: new TimerSet(this.#clock), resend, onTimeout };
    this.#waits.set(cseq, entry);
    this.#run(entry, effects);
  }

  /** An ACK arrived: true when a 2xx with its CSeq number was waiting for it (retransmission stops). */
  ack(cseq: number): boolean {
    const entry = this.#waits.get(cseq);
    if (!entry) return false;
    this.#dispatch(entry, { type: 'ack', cseq });
    return true;
  }

  /** Stops every retransmission (the call ends). */
  close(): void {
    for (const e of this.#waits.values()) e.timers.clearAll();
    this.#waits.clear();
  }

  #dispatch(entry: Entry, event: AckWaitEvent): void {
    const [state, effects] = ackWaitReduce(entry.state, event, this.#t);
    entry.state = state;
    if (state.state !== 'waiting' && this.#waits.get(state.cseq) === entry) this.#waits.delete(state.cseq);
    this.#run(entry, effects);
  }

  #run(entry: Entry, effects: readonly AckWaitEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          entry.resend(e.response);
          break;
        case 'timer.start': {
          const timer = e.timer;
          entry.timers.set(timer, e.ms, () => this.#dispatch(entry, { type: 'timer', timer }));
          break;
        }
        case 'timer.stop':
          entry.timers.clear(e.timer);
          break;
        case 'ack.timeout':
          entry.onTimeout();
          break;
      }
    }
  }
}
