import {
  answerOffer,
  chooseMedia,
  createOffer,
  holding,
  type Negotiated,
  type NegotiationOptions,
  type OfferedCrypto,
  offerCrypto,
  type SessionDescription,
} from '../sdp/index.ts';
import type { Hop } from '../sip/dialog/dialog.ts';
import { type OfferAnswerEvent, offerAnswer, type SignalingState } from '../sip/dialog/offer-answer.ts';
import type { CallEvent } from './call-events.ts';
import { type CallSettings, type MediaPorts, negotiationOptions } from './call-settings.ts';

/** What a call's media negotiation needs of its call. */
export interface SessionMediaHost {
  readonly callId: string;
  readonly settings: CallSettings;
  readonly ports: MediaPorts;
  /** The call's hop: its transport (SRTP only over TLS) and the signalling peer's address. */
  hop(): Hop;
  emit(event: CallEvent): void;
  /** Whether we hold the call now (the machine's hold region: holding or held). */
  holding(): boolean;
}

/**
 * One call's offer/answer (RFC 3264) as seen from our side: our SDP session and its version, what our last
 * offer proposed (its SRTP keys), whether the peer holds us, and the media agreed, announced as
 * `call.media` for the media side to follow. Hold is not kept here: the call machine's hold region says
 * whether we hold the call, and an offer made while that region is changing names it.
 */
export class SessionMedia {
  /** The media agreed (its SRTP keys stay here: they are never in an event). */
  current: Negotiated | undefined;
  readonly #sessionId = String(Math.floor(Math.random() * 1e9));
  #version = 0;
  /** The crypto attributes of our last offer (its answer picks one of them). */
  #offered: readonly OfferedCrypto[] | undefined;
  /** The peer holds us: its last offer was sendonly or inactive (RFC 3264 8.4). */
  #peerHolds = false;
  /** Whose offer is outstanding, if any (src/sip/dialog/offer-answer.ts). */
  #signaling: SignalingState = 'stable';

  constructor(private readonly host: SessionMediaHost) {}

  get signaling(): SignalingState {
    return this.#signaling;
  }

  #step(event: OfferAnswerEvent): void {
    this.#signaling = offerAnswer(this.#signaling, event);
  }

  /** Our offer's transaction failed, or its answer never came: nothing changes (RFC 3261 14.1). */
  rollback(): void {
    this.#step('rollback');
  }

  /** Our address, port and SDP origin, the version one more than the last SDP we made (RFC 3264 8). */
  local() {
    this.#version++;
    return {
      address: this.host.settings.mediaAddress,
      port: this.host.ports.rtpPort,
      sessionId: this.#sessionId,
      sessionVersion: this.#version,
    };
  }

  /**
   * Our direction in an offer (RFC 3264 8.4): sendrecv, or recvonly while the peer holds us; holding, the
   * same without receiving (sendonly, or inactive).
   */
  direction(hold = this.host.holding()): 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive' {
    const base = this.#peerHolds ? 'recvonly' : 'sendrecv';
    return hold ? holding(base) : base;
  }

  /** Our codecs, order, SRTP policy on this call's transport, and whether we hold it. */
  negotiation(offered?: readonly OfferedCrypto[], hold = this.host.holding()): NegotiationOptions {
    const o = negotiationOptions(this.host.settings, this.host.hop().transport, offered);
    return hold ? { ...o, hold: true } : o;
  }

  /**
   * Our offer (a delayed-offer INVITE's 200, a re-INVITE without SDP, a call out, hold and resume):
   * RTP/SAVP with SDES keys when SRTP is on and the signalling is TLS (RFC 4568 8.3), else plain RTP/AVP.
   * `hold`: the direction a hold or resume being sent asks for (the machine is still leaving its state).
   */
  offer(plain = false, hold = this.host.holding()): string {
    const policy = this.negotiation(undefined, hold).srtp;
    const crypto = !plain && policy && policy.mode !== 'off' && policy.secure ? offerCrypto(policy) : [];
    this.#offered = crypto;
    this.#step('local-offer');
    return createOffer(this.local(), this.host.settings.codecs, this.direction(hold), crypto);
  }

  /** The answer to an offer we made (in a 2xx, 183 or ACK): true, or why it is not acceptable. */
  acceptAnswer(sdp: SessionDescription): true | string {
    const n = chooseMedia(sdp, this.negotiation(this.#offered ?? []));
    if (!n.ok) return n.error;
    this.#step('remote-answer');
    this.set(n.value);
    return true;
  }

  /** Our answer to the peer's offer (the media follow it), or why none can be made (488). */
  answer(offer: SessionDescription): { ok: true; sdp: string } | { ok: false; error: string } {
    this.#step('remote-offer');
    const answer = answerOffer(offer, this.local(), this.negotiation());
    if (!answer.ok) {
      this.#step('rollback'); // refused (488): the session stays as it was
      return answer;
    }
    this.#step('local-answer');
    this.set(answer.value, true);
    return { ok: true, sdp: answer.value.sdp };
  }

  /** The media agreed; `fromOffer`: the peer's offer (its direction says whether it holds us). */
  set(n: Negotiated, fromOffer = false): void {
    if (fromOffer) this.#peerHolds = n.peerDirection === 'sendonly' || n.peerDirection === 'inactive';
    this.current = n;
    this.host.emit({
      type: 'call.media',
      callId: this.host.callId,
      codec: n.codec,
      payloadType: n.payloadType,
      dtmfPayloadType: n.dtmfPayloadType,
      localPort: this.host.ports.rtpPort,
      remote: n.remote,
      direction: n.direction,
      signalling: this.host.hop().host,
      ...(n.srtp ? { srtp: n.srtp.suite } : {}),
    });
  }
}
