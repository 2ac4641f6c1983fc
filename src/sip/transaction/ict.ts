import { buildAckForNon2xx } from '../message/build.ts';
import type { ParsedRequest, ParsedResponse } from '../message/parse.ts';
import type { SipRequest } from '../message/types.ts';
import { type Step, send, start, stop, type TxEffect, terminated } from './effects.ts';
import type { TimerTable } from './timers.ts';

/** INVITE client transaction, RFC 3261 17.1.1 with RFC 6026's "Accepted" state. */
export type IctStateName = 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

export interface IctState {
  readonly kind: 'ict';
  readonly state: IctStateName;
  readonly request: ParsedRequest;
  readonly timerA: number;
  readonly ack?: SipRequest;
}

export type IctEvent =
  | { readonly type: 'response'; readonly response: ParsedResponse }
  | { readonly type: 'timer'; readonly timer: 'A' | 'B' | 'D' | 'M' }
  | { readonly type: 'transport.error' };

/** "The initial state, "calling", MUST be entered when the TU initiates a new client transaction." */
export function ictStart(request: ParsedRequest, t: TimerTable): Step<IctState> {
  return [
    { kind: 'ict', state: 'calling', request, timerA: t.A },
    [send(request.msg), ...(t.reliable ? [] : [start('A', t.A)]), start('B', t.B)],
  ];
}

export function ictReduce(s: IctState, e: IctEvent, t: TimerTable): Step<IctState> {
  const same: Step<IctState> = [s, []];
  const end = (effects: TxEffect[]): Step<IctState> => [
    { ...s, state: 'terminated' },
    [...effects, terminated],
  ];
  switch (e.type) {
    case 'transport.error':
      return s.state === 'terminated' ? same : end([{ type: 'tu.transport-error' }]);
    case 'timer':
      switch (e.timer) {
        case 'A':
          // "When timer A fires, the client transaction MUST retransmit the request ... and reset the timer
          // with a value of 2*T1." No T2 cap for INVITE.
          if (s.state !== 'calling') return same;
          return [{ ...s, timerA: s.timerA * 2 }, [send(s.request.msg), start('A', s.timerA * 2)]];
        case 'B':
          // "If the client transaction is still in the Calling state when timer B fires, [it] SHOULD inform
          // the TU that a timeout has occurred."
          return s.state === 'calling' ? end([stop('A'), { type: 'tu.timeout' }]) : same;
        case 'D':
          return s.state === 'completed' ? end([]) : same;
        case 'M':
          return s.state === 'accepted' ? end([]) : same;
      }
      return same;
    case 'response':
      return onResponse(s, e.response, t);
  }
}

function onResponse(s: IctState, r: ParsedResponse, t: TimerTable): Step<IctState> {
  const status = r.msg.status;
  const deliver: TxEffect = { type: 'tu.response', response: r };
  switch (s.state) {
    case 'calling':
    case 'proceeding':
      if (status < 200) return [{ ...s, state: 'proceeding' }, [stop('A'), deliver]];
      if (status < 300) {
        // RFC 6026 7.2: a 2xx moves to "Accepted"; the TU sends the ACK; later 2xx go to the TU too
        return [{ ...s, state: 'accepted' }, [stop('A'), stop('B'), deliver, start('M', t.M)]];
      }
      {
        // "The client transaction MUST generate an ACK request ... and pass the response up to the TU"
        const ack = buildAckForNon2xx(s.request, r);
        return [
          { ...s, state: 'completed', ack },
          [stop('A'), stop('B'), send(ack), deliver, start('D', t.D)],
        ];
      }
    case 'completed':
      // "Any retransmissions of the final response ... MUST cause the ACK to be re-passed to the transport"
      return status >= 300 && s.ack ? [s, [send(s.ack)]] : [s, []];
    case 'accepted':
      return status >= 200 && status < 300 ? [s, [deliver]] : [s, []];
    case 'terminated':
      return [s, []];
  }
}
