import type { SipCore } from '../../src/sip/core/sip-core.ts';
import type { TransactionUser } from '../../src/sip/core/tu.ts';
import type { ParsedRequest } from '../../src/sip/message/parse.ts';
import type { ServerTransaction } from '../../src/sip/transaction/layer.ts';

/**
 * The transaction user while no call engine is attached: no dialog exists, so in-dialog requests get 481
 * (RFC 3261 12.2.2) and a new INVITE gets 480. The call manager replaces it.
 */
export function noCallTu(core: () => SipCore): TransactionUser {
  return {
    onRequest(req: ParsedRequest, tx: ServerTransaction) {
      if (req.toTag !== undefined || req.msg.method === 'BYE') {
        core().respond(tx, 481);
        return;
      }
      core().respond(tx, 480, { reason: 'Temporarily Unavailable (no call handler)' });
    },
    onCancel(invite: ServerTransaction) {
      core().respond(invite, 487);
    },
  };
}
