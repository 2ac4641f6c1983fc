import type { ParsedRequest, ParsedResponse } from '../message/parse.ts';
import type { SipMessage } from '../message/types.ts';
import type { TimerName } from './timers.ts';

/**
 * What a transaction reducer asks its host to do. Effects are data (as in ersip): the reducers stay pure
 * and the host (TransactionLayer) performs them in order.
 */
export type TxEffect =
  | { readonly type: 'send'; readonly message: SipMessage }
  | { readonly type: 'timer.start'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'timer.stop'; readonly timer: TimerName }
  | { readonly type: 'tu.response'; readonly response: ParsedResponse }
  | { readonly type: 'tu.request'; readonly request: ParsedRequest }
  | { readonly type: 'tu.timeout' }
  | { readonly type: 'tu.transport-error' }
  | { readonly type: 'terminated' };

export type Step<S> = readonly [S, readonly TxEffect[]];

export const send = (message: SipMessage): TxEffect => ({ type: 'send', message });
export const start = (timer: TimerName, ms: number): TxEffect => ({ type: 'timer.start', timer, ms });
export const stop = (timer: TimerName): TxEffect => ({ type: 'timer.stop', timer });
export const terminated: TxEffect = { type: 'terminated' };
