import type { ParsedRequest, ParsedResponse } from '../message/parse.ts';
import type { ServerTransaction } from '../transaction/layer.ts';

/**
 * The transaction user above the SIP core: the call manager (src/machines) implements it. The core has already
 * validated the request (RFC 3261 8.2), created its server transaction and answered OPTIONS outside dialogs.
 */
export interface TransactionUser {
  /** A new request (INVITE, BYE, in-dialog OPTIONS ...): answer it through `tx`. */
  onRequest(req: ParsedRequest, tx: ServerTransaction): void;
  /** A CANCEL matched `invite` and got its 200; the TU answers the INVITE with 487 (RFC 3261 9.2). */
  onCancel(invite: ServerTransaction, cancel: ParsedRequest): void;
  /** An ACK that matched no transaction: the ACK for a 2xx (RFC 3261 17.1.1.3, 13.3.1.4). */
  onAck?(ack: ParsedRequest): void;
  /** A response that matched no client transaction, e.g. a retransmitted 2xx to re-ACK (RFC 3261 13.2.2.4). */
  onStrayResponse?(res: ParsedResponse): void;
}
