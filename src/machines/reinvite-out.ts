import { parseSdp, sdpOf } from '../sdp/index.ts';
import type { ParsedResponse } from '../sip/message/parse.ts';
import type { SipRequest } from '../sip/message/types.ts';
import type { DialogHost } from './dialog-host.ts';
import type { SessionMedia } from './session-media.ts';

/**
 * Our re-INVITEs (a session refresh, hold and resume). RFC 3261 14.1: "a UAC MUST NOT initiate a new INVITE
 * transaction within a dialog while another INVITE transaction is in progress in either direction"; each 2xx
 * is ACKed (13.2.2.4), a retransmitted one again with the same ACK; a non-2xx leaves the session as it was
 * ("the session parameters MUST remain unchanged").
 */
export class ReinviteOut {
  #inFlight: { cseq: number; ack: SipRequest | undefined } | undefined;

  constructor(
    private readonly host: DialogHost,
    /** Our offer in each re-INVITE, and the answer in its 2xx (or nothing changed: rollback). */
    private readonly sdp: SessionMedia,
  ) {}

  get pending(): boolean {
    return this.#inFlight !== undefined;
  }

  /**
   * Sends a re-INVITE with our offer (`hold`: the direction a hold or resume asks for; absent: as the call
   * stands), made only when the re-INVITE goes out (an offer made and not sent would take an SDP version,
   * RFC 3264 8). The 2xx's answer is taken (RFC 3261 14.1); a failure, or an answer we cannot use, leaves
   * the session as it was. `done` gets the final status (408 on timeout, 503 when the transport failed)
   * and the 2xx, once. False, and no offer made, when the dialog is not there or an INVITE is in flight.
   */
  send(
    headers: ReadonlyArray<readonly [string, string]>,
    done: (status: number, response?: ParsedResponse) => void,
    hold?: boolean,
  ): boolean {
    const h = this.host;
    if (!h.usage.dialog || this.#inFlight) return false;
    const flight = { cseq: 0, ack: undefined as SipRequest | undefined };
    this.#inFlight = flight;
    let finished = false;
    const sent = h.usage.request(
      'INVITE',
      {
        contact: h.contact(),
        headers: [...headers, ['Allow', h.core.allow], ['Supported', h.core.supported]],
        body: {
          type: 'application/sdp',
          data: new TextEncoder().encode(this.sdp.offer(!this.sdp.current?.srtp, hold)),
        },
      },
      (status, r) => {
        // each 2xx (a retransmitted one too) is ACKed, with the same ACK
        if (status < 300 && r && sent) {
          flight.ack ??= h.usage.ack(flight.cseq, sent);
          if (flight.ack) h.core.sendStateless(flight.ack, sent.hop);
        }
        if (this.#inFlight === flight) this.#inFlight = undefined;
        if (finished) return;
        finished = true;
        this.#answer(status, r);
        done(status, r);
      },
    );
    if (sent) flight.cseq = sent.cseq;
    return true;
  }

  /** The final answer to our re-INVITE: a 2xx's SDP answer and the media follow it; else rollback. */
  #answer(status: number, r: ParsedResponse | undefined): void {
    if (status < 200 || status >= 300 || !r) {
      this.sdp.rollback();
      return;
    }
    const text = sdpOf(r.msg);
    const sdp = text === undefined ? undefined : parseSdp(text);
    const taken = sdp?.ok ? this.sdp.acceptAnswer(sdp.value) : 'no usable SDP';
    if (taken === true) return;
    this.sdp.rollback();
    this.host.log.warn({ reason: taken }, 'the answer to our re-INVITE is not usable');
  }
}
