import type { Subscription } from 'rxjs';
import type { Logger } from '../kernel/logger.ts';
import type { CallManager } from './call-manager.ts';

/**
 * A `transfer` route (the routes file, a webhook's reply): its call is answered, then referred to the
 * route's target (a blind transfer, RFC 3515). Returns the subscription that does it.
 */
export function transferOnAnswer(
  calls: Pick<CallManager, 'events$' | 'plan' | 'transfer'>,
  log: Logger,
): Subscription {
  return calls.events$.subscribe((e) => {
    if (e.type !== 'call.answered') return;
    const target = calls.plan(e.callId)?.transfer;
    if (!target) return;
    // the answer is announced while the call enters `established`: transfer once it is there
    queueMicrotask(() => {
      const r = calls.transfer(e.callId, target);
      if (!r.ok)
        log.warn(
          { callId: e.callId, target, why: r.message },
          'transfer route: the transfer could not start',
        );
    });
  });
}
