import { readReferNotify, referSubSuppressed } from '../sip/dialog/refer.ts';
import { parseNameAddr } from '../sip/message/name-addr.ts';
import type { ParsedRequest } from '../sip/message/parse.ts';
import { serializeUri } from '../sip/message/uri.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { DialogHost } from './dialog-host.ts';

/**
 * A blind transfer we ask for (RFC 3515): the REFER in the call's dialog, and the NOTIFYs of the implicit
 * subscription it makes. Their outcomes become machine events; the machine decides what the call does.
 */
export class TransferOut {
  /** The transfer we asked for: its target, and whether its subscription still takes NOTIFYs. */
  #transfer: { target: string; subscribed: boolean } | undefined;

  constructor(private readonly host: DialogHost) {}

  get target(): string {
    return this.#transfer?.target ?? '';
  }

  /**
   * REFER (2.4.1) naming the target in Refer-To and us in Referred-By (RFC 3892). A REFER makes a
   * subscription, so it carries a Contact (RFC 6665 7.1).
   */
  refer(target: string): void {
    const h = this.host;
    this.#transfer = { target, subscribed: true };
    h.after('transfer', h.settings.transferTimeoutMs ?? 60_000, { type: 'timer.transfer' });
    const d = h.usage.dialog;
    if (!d) return;
    const me = parseNameAddr(d.localParty);
    const failed = (status: number, reason: string) => {
      this.#unsubscribe();
      h.send({ type: 'sip.transferFailed', status, reason });
    };
    h.usage.request(
      'REFER',
      {
        contact: h.contact(),
        headers: [
          ['Refer-To', `<${target}>`],
          ...(me.ok ? [['Referred-By', `<${serializeUri(me.value.uri)}>`] as [string, string]] : []),
          ['Allow', h.core.allow],
          ['Supported', h.core.supported],
        ],
      },
      (status, r) => {
        if (!r) return failed(status, status === 408 ? 'Request Timeout' : 'Service Unavailable');
        if (status >= 300) return failed(status, r.msg.reason);
        h.send({ type: 'sip.referAccepted' });
        // RFC 4488 4: "Refer-Sub: false" in the 2xx: no NOTIFY will come; the transferee took the call over
        if (referSubSuppressed(r.msg)) {
          this.#unsubscribe();
          h.send({ type: 'sip.transferDone', status });
        }
      },
    );
  }

  #unsubscribe(): void {
    if (this.#transfer) this.#transfer.subscribed = false;
  }

  /**
   * A NOTIFY in the dialog (2.4.4): answered 200 when it reports on our REFER, its sipfrag moving the
   * transfer on. A 2xx in it means the transferee reached the target (2.4.5); 3xx-6xx, or a subscription
   * ended without a final status, means the transfer failed and the call stays ours. A NOTIFY for no
   * subscription gets 481 (RFC 6665 4.1.3).
   */
  onNotify(req: ParsedRequest, tx: ServerTransaction): void {
    const h = this.host;
    const t = this.#transfer;
    if (!t?.subscribed) {
      h.core.respond(tx, 481, { reason: 'Subscription does not exist' });
      return;
    }
    const verdict = readReferNotify(req);
    if (!verdict.ok) {
      h.core.respond(tx, verdict.status, { reason: verdict.reason });
      return;
    }
    h.core.respond(tx, 200);
    const { frag, terminated } = verdict.notify;
    if (terminated) t.subscribed = false;
    if (frag && frag.status >= 200 && frag.status < 300)
      h.send({ type: 'sip.transferDone', status: frag.status });
    else if (frag && frag.status >= 300) h.send({ type: 'sip.transferFailed', ...frag });
    else if (terminated)
      h.send({
        type: 'sip.transferFailed',
        status: 487,
        reason: 'subscription ended without a final status',
      });
    else if (frag && frag.status > 100) h.send({ type: 'sip.transferProgress', status: frag.status });
  }
}
