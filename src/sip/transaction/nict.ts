import type { ParsedRequest, ParsedResponse } from '../message/parse.ts';
import { type Step, send, start, stop, type TxEffect, terminated } from './effects.ts';
import type { TimerTable } from './timers.ts';

/** Non-INVITE client transaction, RFC 3261 17.1.2. */
export type NictStateName = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NictState {
  readonly kind: 'nict';
  readonly state: NictStateName;
  readonly request: ParsedRequest;
  readonly timerE: number;
}

export type NictEvent =
  | { readonly type: 'response'; readonly response: ParsedResponse }
  | { readonly type: 'timer'; readonly timer: 'E' | 'F' | 'K' }
  | { readonly type: 'transport.error' };

export function nictStart(request: ParsedRequest, t: TimerTable): Step<NictState> {
  return [
    { kind: 'nict', state: 'trying', request, timerE: t.E },
    [send(request.msg), ...(t.reliable ? [] : [start('E', t.E)]), start('F', t.F)],
  ];
}

export function nictReduce(s: NictState, e: NictEvent, t: TimerTable): Step<NictState> {
  const same: Step<NictState> = [s, []];
  const end = (effects: TxEffect[]): Step<NictState> => [
    { ...s, state: 'terminated' },
    [...effects, terminated],
  ];
  const active = s.state === 'trying' || s.state === 'proceeding';
  switch (e.type) {
    case 'transport.error':
      return s.state === 'terminated' ? same : end([{ type: 'tu.transport-error' }]);
    case 'timer':
      if (e.timer === 'E' && active) {
        // Trying: "reset the timer with a value of MIN(2*T1, T2)" doubling; Proceeding: "reset ... T2"
        const next = s.state === 'trying' ? Math.min(s.timerE * 2, t.t2) : t.t2;
        return [{ ...s, timerE: next }, [send(s.request.msg), start('E', next)]];
      }
      if (e.timer === 'F' && active) return end([stop('E'), { type: 'tu.timeout' }]);
      if (e.timer === 'K' && s.state === 'completed') return end([]);
      return same;
    case 'response': {
      if (!active) return same; // completed: "buffer any retransmissions of the final response"
      const deliver: TxEffect = { type: 'tu.response', response: e.response };
      if (e.response.msg.status < 200) return [{ ...s, state: 'proceeding' }, [deliver]];
      return [{ ...s, state: 'completed' }, [stop('E'), stop('F'), deliver, start('K', t.K)]];
    }
  }
}
