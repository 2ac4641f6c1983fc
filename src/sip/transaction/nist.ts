import type { ParsedRequest } from '../message/parse.ts';
import type { SipResponse } from '../message/types.ts';
import { type Step, send, start, type TxEffect, terminated } from './effects.ts';
import type { TimerTable } from './timers.ts';

/** Non-INVITE server transaction, RFC 3261 17.2.2. */
export type NistStateName = 'trying' | 'proceeding' | 'completed' | 'terminated';

export interface NistState {
  readonly kind: 'nist';
  readonly state: NistStateName;
  readonly request: ParsedRequest;
  readonly lastResponse?: SipResponse;
}

export type NistEvent =
  | { readonly type: 'request'; readonly request: ParsedRequest }
  | { readonly type: 'respond'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly timer: 'J' }
  | { readonly type: 'transport.error' };

export function nistStart(request: ParsedRequest): Step<NistState> {
  return [{ kind: 'nist', state: 'trying', request }, [{ type: 'tu.request', request }]];
}

export function nistReduce(s: NistState, e: NistEvent, t: TimerTable): Step<NistState> {
  const same: Step<NistState> = [s, []];
  const end = (effects: TxEffect[]): Step<NistState> => [
    { ...s, state: 'terminated' },
    [...effects, terminated],
  ];
  switch (e.type) {
    case 'transport.error':
      return s.state === 'terminated' ? same : end([{ type: 'tu.transport-error' }]);
    case 'request':
      // Trying: "any further request retransmissions are discarded"; Proceeding/Completed: resend the
      // last response.
      if ((s.state === 'proceeding' || s.state === 'completed') && s.lastResponse)
        return [s, [send(s.lastResponse)]];
      return same;
    case 'respond': {
      if (s.state !== 'trying' && s.state !== 'proceeding') return same;
      const next = { ...s, lastResponse: e.response };
      if (e.response.status < 200) return [{ ...next, state: 'proceeding' }, [send(e.response)]];
      // "Timer J ... 64*T1 for unreliable transports"
      return [{ ...next, state: 'completed' }, [send(e.response), start('J', t.J)]];
    }
    case 'timer':
      return s.state === 'completed' ? end([]) : same;
  }
}
