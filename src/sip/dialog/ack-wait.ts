import type { SipResponse } from '../message/types.ts';
import type { TimerBase } from '../transaction/timers.ts';

/**
 * A 2xx to an INVITE (first or re-INVITE) waiting for its ACK. RFC 3261 13.3.1.4: "The 2xx response is passed
 * to the transport with an interval that starts at T1 seconds and doubles for each retransmission until it
 * reaches T2 seconds ... Response retransmissions cease when an ACK request for the response is received";
 * "If the server retransmits the 2xx response for 64*T1 seconds without receiving an ACK, the dialog is
 * confirmed, but the session SHOULD be terminated. This is accomplished with a BYE." Pure, like the
 * transaction reducers: the host (AckWaits) runs the effects.
 */
export interface AckWait {
  readonly cseq: number;
  readonly response: SipResponse;
  readonly state: 'waiting' | 'acked' | 'timed-out';
  /** The interval the running retransmission timer was started with. */
  readonly interval: number;
}

export type AckWaitTimer = 'retransmit' | 'give-up';

export type AckWaitEvent =
  | { readonly type: 'timer'; readonly timer: AckWaitTimer }
  | { readonly type: 'ack'; readonly cseq: number };

export type AckWaitEffect =
  | { readonly type: 'send'; readonly response: SipResponse }
  | { readonly type: 'timer.start'; readonly timer: AckWaitTimer; readonly ms: number }
  | { readonly type: 'timer.stop'; readonly timer: AckWaitTimer }
  /** 64*T1 without the ACK: the session should end (with a BYE). */
  | { readonly type: 'ack.timeout' };

export type AckWaitStep = readonly [AckWait, readonly AckWaitEffect[]];

/** Starts waiting once the 2xx has been sent (the first transmission is the transaction's). */
export function ackWaitStart(cseq: number, response: SipResponse, t: TimerBase): AckWaitStep {
  return [
    { cseq, response, state: 'waiting', interval: t.t1 },
    [
      { type: 'timer.start', timer: 'retransmit', ms: t.t1 },
      { type: 'timer.start', timer: 'give-up', ms: 64 * t.t1 },
    ],
  ];
}

export function ackWaitReduce(s: AckWait, e: AckWaitEvent, t: TimerBase): AckWaitStep {
  if (s.state !== 'waiting') return [s, []];
  const stopAll: AckWaitEffect[] = [
    { type: 'timer.stop', timer: 'retransmit' },
    { type: 'timer.stop', timer: 'give-up' },
  ];
  switch (e.type) {
    case 'ack':
      // the ACK for a 2xx carries the INVITE's CSeq number (13.2.2.4)
      return e.cseq === s.cseq ? [{ ...s, state: 'acked' }, stopAll] : [s, []];
    case 'timer':
      if (e.timer === 'give-up') return [{ ...s, state: 'timed-out' }, [...stopAll, { type: 'ack.timeout' }]];
      {
        const next = Math.min(s.interval * 2, t.t2);
        return [
          { ...s, interval: next },
          [
            { type: 'send', response: s.response },
            { type: 'timer.start', timer: 'retransmit', ms: next },
          ],
        ];
      }
  }
}
