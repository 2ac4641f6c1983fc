import type { Result } from '../kernel/result.ts';
import { referSubSuppressed, sipfrag } from '../sip/dialog/refer.ts';
import type { TransferTarget } from '../sip/dialog/transfer-target.ts';
import { header, headerValues } from '../sip/message/headers.ts';
import { parseNameAddr } from '../sip/message/name-addr.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import { serializeUri } from '../sip/message/uri.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { DialogHost } from './dialog-host.ts';

/** What taking a REFER needs beyond the dialog: the allow list, and a call placed to the target. */
export interface ReferredCalls {
  /** The target checked against TRANSFER_ALLOWED_TARGETS. */
  resolve(target: string): Result<TransferTarget, { code: string; message: string }>;
  /**
   * Calls `target` (with Referred-By and Replaces as the REFER gave them); `progress` gets each 1xx and then
   * the final status once. Resolves the new call's id, or undefined when it could not be placed (progress
   * has had its final status then).
   */
  call(
    target: TransferTarget,
    referredBy: string | undefined,
    progress: (status: number, reason: string) => void,
  ): Promise<string | undefined>;
}

/**
 * A transfer the peer asks of us (RFC 3515 as the REFER's recipient): 202, then a call to the Refer-To
 * target, and NOTIFYs with its progress (100 Trying, 1xx, the final status) in the implicit subscription,
 * unless the REFER asked for none (RFC 4488 "Refer-Sub: false"). The machine decides what the outcome does
 * to this call.
 */
export class TransferIn {
  #ref:
    | {
        target: TransferTarget;
        referredBy: string | undefined;
        notify: boolean;
        newCallId?: string;
        final?: boolean;
      }
    | undefined;

  constructor(
    private readonly host: DialogHost,
    private readonly calls: ReferredCalls,
  ) {}

  get target(): string {
    return this.#ref?.target.text ?? '';
  }

  get newCallId(): string | undefined {
    return this.#ref?.newCallId;
  }

  /**
   * A REFER in the dialog. RFC 3515 2.4.2: "A REFER request ... MUST contain exactly one Refer-To header"
   * (else 400); a target outside TRANSFER_ALLOWED_TARGETS gets 403 (no toll fraud through transfers); one
   * transfer at a time (491 while one is under way, or the call is not established).
   */
  onRefer(req: ParsedRequest, tx: ServerTransaction, canTake: boolean): void {
    const h = this.host;
    const referTo = headerValues(req.msg, 'refer-to');
    const na = referTo.length === 1 ? parseNameAddr(referTo[0]!) : undefined;
    if (!na?.ok) {
      h.core.respond(tx, 400, { reason: 'Bad Request (a REFER needs exactly one Refer-To)' });
      return;
    }
    if (!canTake) {
      h.core.respond(tx, 491, { headers: [['Retry-After', '2']] });
      return;
    }
    const t = this.calls.resolve(serializeUri(na.value.uri));
    if (!t.ok) {
      h.log.warn({ target: referTo[0]!.slice(0, 200), why: t.error.message }, 'REFER refused: 403');
      h.core.respond(tx, 403, { reason: 'Forbidden (transfer target not allowed)' });
      return;
    }
    const notify = !referSubSuppressed(req.msg);
    this.#ref = { target: t.value, referredBy: header(req.msg, 'referred-by'), notify };
    // RFC 3515 2.4.2: "the REFER ... is accepted ... with a 202"; RFC 4488 4: "Refer-Sub: false" echoed
    h.core.respond(tx, 202, {
      headers: [['Contact', h.contact()], ...(notify ? [] : [['Refer-Sub', 'false'] as [string, string]])],
    });
    h.log.info({ target: t.value.text }, `REFER accepted: calling ${t.value.text}`);
    h.send({ type: 'sip.refer', target: t.value.text });
  }

  /** The machine took the REFER: NOTIFY 100 Trying, then the call to the target. */
  start(): void {
    const ref = this.#ref;
    if (!ref) return;
    // RFC 3515 2.4.4: the first NOTIFY, at once, says the reference is being tried
    this.#notify(100, 'Trying', false);
    void this.calls
      .call(ref.target, ref.referredBy, (status, reason) => this.#progress(status, reason))
      .then((id) => {
        if (id !== undefined) ref.newCallId = id;
      });
  }

  #progress(status: number, reason: string): void {
    const ref = this.#ref;
    if (!ref || ref.final) return;
    if (status < 200) {
      if (status > 100) this.#notify(status, reason, false);
      return;
    }
    ref.final = true;
    this.#notify(status, reason, true);
    if (status < 300) this.host.send({ type: 'referred.done', status });
    else this.host.send({ type: 'referred.failed', status, reason });
  }

  /** A NOTIFY with the sipfrag of the referred call's status (RFC 3515 2.4.5); the last one terminates. */
  #notify(status: number, reason: string, final: boolean): void {
    const h = this.host;
    if (!h.usage.dialog || !this.#ref?.notify) return;
    h.usage.request('NOTIFY', {
      contact: h.contact(),
      headers: [
        ['Event', 'refer'],
        ['Subscription-State', final ? 'terminated;reason=noresource' : 'active;expires=60'],
      ],
      body: sipfrag(status, reason),
    });
  }
}
