import { buildResponse } from '../message/build.ts';
import type { ParsedRequest } from '../message/parse.ts';
import type { SipResponse } from '../message/types.ts';
import { type Step, send, start, stop, type TxEffect, terminated } from './effects.ts';
import type { TimerTable } from './timers.ts';

/** INVITE server transaction, RFC 3261 17.2.1 with RFC 6026's "Accepted" state. */
export type IstStateName = 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';

export interface IstState {
  readonly kind: 'ist';
  readonly state: IstStateName;
  readonly request: ParsedRequest;
  readonly lastResponse?: SipResponse;
  readonly timerG: number;
}

export type IstEvent =
  | { readonly type: 'request'; readonly request: ParsedRequest }
  | { readonly type: 'respond'; readonly response: SipResponse }
  | { readonly type: 'timer'; readonly timer: 'G' | 'H' | 'I' | 'L' }
  | { readonly type: 'transport.error' };

/**
 * "The server transaction MUST generate a 100 (Trying) response unless it knows that the TU will generate a
 * provisional or final response within 200 milliseconds": we always send it at once, then hand the INVITE up.
 */
export function istStart(request: ParsedRequest, t: TimerTable): Step<IstState> {
  const trying = buildResponse(request.msg, 100);
  return [
    { kind: 'ist', state: 'proceeding', request, lastResponse: trying, timerG: t.G },
    [send(trying), { type: 'tu.request', request }],
  ];
}

export function istReduce(s: IstState, e: IstEvent, t: TimerTable): Step<IstState> {
  const same: Step<IstState> = [s, []];
  const end = (effects: TxEffect[]): Step<IstState> => [
    { ...s, state: 'terminated' },
    [...effects, terminated],
  ];
  switch (e.type) {
    case 'transport.error':
      return s.state === 'terminated' ? same : end([{ type: 'tu.transport-error' }]);
    case 'request': {
      const isAck = e.request.msg.method === 'ACK';
      if (isAck) {
        // "If an ACK is received while the server transaction is in the Completed state, [it] MUST
        // transition to the Confirmed state" (Timer I = T4 for UDP). RFC 6026: in Accepted, ACKs go to the TU.
        if (s.state === 'completed')
          return [{ ...s, state: 'confirmed' }, [stop('G'), stop('H'), start('I', t.I)]];
        if (s.state === 'accepted') return [s, [{ type: 'tu.request', request: e.request }]];
        return same;
      }
      // Retransmitted INVITE: "the most recent provisional response ... MUST be passed to the transport"
      // (Proceeding) / "the most recent final response" (Completed); absorbed otherwise.
      if ((s.state === 'proceeding' || s.state === 'completed') && s.lastResponse) {
        return [s, [send(s.lastResponse)]];
      }
      return same;
    }
    case 'respond': {
      const status = e.response.status;
      const next = { ...s, lastResponse: e.response };
      if (s.state === 'proceeding') {
        if (status < 200) return [next, [send(e.response)]];
        if (status < 300) return [{ ...next, state: 'accepted' }, [send(e.response), start('L', t.L)]];
        return [
          { ...next, state: 'completed', timerG: t.G },
          [send(e.response), ...(t.reliable ? [] : [start('G', t.G)]), start('H', t.H)],
        ];
      }
      // RFC 6026 8.5: in Accepted, 2xx retransmissions from the TU are passed to the transport
      if (s.state === 'accepted' && status >= 200 && status < 300) return [next, [send(e.response)]];
      return same;
    }
    case 'timer':
      switch (e.timer) {
        case 'G': {
          if (s.state !== 'completed' || !s.lastResponse) return same;
          const g = Math.min(s.timerG * 2, t.t2);
          return [{ ...s, timerG: g }, [send(s.lastResponse), start('G', g)]];
        }
        case 'H':
          // "If timer H fires while in the Completed state, ... the server transaction MUST transition to
          // the Terminated state, and MUST indicate to the TU that a transaction failure has occurred."
          return s.state === 'completed' ? end([stop('G'), { type: 'tu.timeout' }]) : same;
        case 'I':
          return s.state === 'confirmed' ? end([]) : same;
        case 'L':
          return s.state === 'accepted' ? end([]) : same;
      }
  }
  return same;
}
