import type { SipCore } from '../sip/core/sip-core.ts';
import { type Dialog, type Hop, inDialogRequest, nextHop, receiveInDialog } from '../sip/dialog/dialog.ts';
import { newBranch } from '../sip/message/ids.ts';
import type { ParsedRequest, ParsedResponse } from '../sip/message/parse.ts';
import type { SipRequest } from '../sip/message/types.ts';

/** What an in-dialog request carries beyond what the dialog gives it. */
export interface UsageRequest {
  /** Our Contact (target refresh requests, RFC 3261 12.2.1.1; REFER and NOTIFY carry it too). */
  readonly contact?: string | undefined;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: { readonly type: string; readonly data: Uint8Array };
}

/**
 * The final outcome of an in-dialog request: the response's status (2xx-6xx) and the response; 408
 * without one when the transaction timed out, 503 when the transport failed (RFC 3261 8.1.3.1).
 */
export type Outcome = (status: number, response?: ParsedResponse) => void;

/** A request sent: what an INVITE's ACK needs (its CSeq number, the hop and the Via sent-by). */
export interface Sent {
  readonly request: SipRequest;
  readonly hop: Hop;
  readonly via: { host: string; port: number };
  readonly cseq: number;
}

/**
 * One call's dialog, and the only writer of it: created once (UAS or UAC), its remote CSeq moved on by
 * each request received, its local CSeq by each request sent. Every in-dialog request of the call (BYE,
 * re-INVITE, UPDATE, REFER, NOTIFY, the ACK of a 2xx) is made here by one recipe: next hop from the route
 * set and remote target, our sent-by on that hop's transport, a new branch, the next CSeq.
 */
export class DialogUsage {
  #dialog: Dialog | undefined;

  constructor(
    private readonly core: () => SipCore,
    /** Where requests go when the remote target names a host we cannot reach directly. */
    private readonly fallback: () => Hop,
  ) {}

  get dialog(): Dialog | undefined {
    return this.#dialog;
  }

  /** The dialog exists (RFC 3261 12.1: the UAS's response with a To tag, or the UAC's 2xx). */
  establish(d: Dialog): void {
    this.#dialog = d;
  }

  /** Where the next in-dialog request goes (route set, remote target, the connection to reuse). */
  hop(): Hop {
    return nextHop(this.#dialog!, this.fallback());
  }

  /**
   * A request from the peer in this dialog (RFC 3261 12.2.2): its CSeq must not go back; undefined when
   * taken, else the error to answer it with.
   */
  receive(req: ParsedRequest): { status: number; reason: string } | undefined {
    if (!this.#dialog) return undefined;
    const verdict = receiveInDialog(this.#dialog, req);
    if (!verdict.ok) return verdict;
    this.#dialog = verdict.dialog;
    return undefined;
  }

  /**
   * Sends `method` in the dialog; `done` hears its final outcome (see Outcome). Undefined (nothing sent)
   * when there is no dialog.
   */
  request(method: string, o: UsageRequest, done?: Outcome): Sent | undefined {
    const d = this.#dialog;
    if (!d) return undefined;
    const core = this.core();
    const hop = this.hop();
    const via = core.sentBy(hop.transport);
    const built = inDialogRequest(d, method, {
      via,
      branch: newBranch(),
      ...(o.contact ? { contact: o.contact } : {}),
      ...(o.headers ? { headers: o.headers } : {}),
      ...(o.body ? { body: o.body } : {}),
    });
    this.#dialog = built.dialog;
    core.sendRequest(
      built.request,
      hop,
      done
        ? {
            onResponse: (r) => {
              if (r.msg.status >= 200) done(r.msg.status, r);
            },
            onTimeout: () => done(408),
            onTransportError: () => done(503),
          }
        : { onResponse: () => {} },
    );
    return { request: built.request, hop, via, cseq: built.dialog.localSeq };
  }

  /**
   * The ACK of a 2xx to our INVITE (RFC 3261 13.2.2.4): built like an in-dialog request with the INVITE's
   * CSeq number, sent without a transaction to `hop` (the INVITE's own hop when given).
   */
  ack(cseq: number, at?: { hop: Hop; via: { host: string; port: number } }): SipRequest | undefined {
    const d = this.#dialog;
    if (!d) return undefined;
    const hop = at?.hop ?? this.hop();
    const via = at?.via ?? this.core().sentBy(hop.transport);
    return inDialogRequest(d, 'ACK', { via, branch: newBranch(), cseq }).request;
  }
}
