import { parseSdp, sdpOf } from '../sdp/index.ts';
import { answerChallenge } from '../sip/auth/answer.ts';
import { dialogAsUac } from '../sip/dialog/dialog.ts';
import { type InviteClient, inviteClientResponse, inviteClientStart } from '../sip/dialog/invite-client.ts';
import { uacSessionTimer, uacTimerHeaders } from '../sip/dialog/session-timer.ts';
import { buildCancel, buildRequest } from '../sip/message/build.ts';
import { newBranch, newTag } from '../sip/message/ids.ts';
import type { ParsedRequest, ParsedResponse } from '../sip/message/parse.ts';
import type { SipRequest } from '../sip/message/types.ts';
import type { TransportName } from '../sip/transport/transport.ts';
import type { CallEvent } from './call-events.ts';
import type { CallContext, EmittedType } from './call-machine/types.ts';
import { allowOf, CallSession, type MachineActions, type SessionEnv, supportedOf } from './call-session.ts';
import type { MediaPorts } from './call-settings.ts';

/**
 * How long a call out may ring (provisional responses, no answer) before we CANCEL it: RFC 3261's Timer C,
 * "greater than 3 minutes" (16.6 step 11), since the INVITE transaction in Proceeding never times out.
 */
export const OUTGOING_RING_LIMIT_MS = 180_000;

export interface DialTarget {
  /** Request-URI, e.g. sip:0912345678@pbx:5060. */
  readonly uri: string;
  /** Where the INVITE goes (the upstream server), and over which transport (UDP when absent). */
  readonly dest: { readonly host: string; readonly port: number; readonly transport?: TransportName };
  /** Our From value without tag, e.g. "Relay" <sip:relay@pbx>. */
  readonly from: string;
  readonly credentials?: { readonly username: string; readonly password: string };
  /** Extra headers of the INVITE (a referred call's Referred-By and Replaces). */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
}

/**
 * An outgoing call (UAC): INVITE with our offer -> 1xx -> 2xx (ACK along the route set) or 3xx-6xx (the
 * transaction ACKs it) -> failed; 401/407 -> one retry with digest credentials; hang-up while ringing ->
 * CANCEL, and a 200 that crosses the CANCEL gets ACK then BYE.
 */
export class OutgoingCall extends CallSession {
  readonly #target: DialTarget;
  readonly #localTag = newTag();
  #client: InviteClient = inviteClientStart(1);
  #invite: ParsedRequest | undefined;
  #ack: SipRequest | undefined;
  /** The last digest answer sent, for the plain-RTP retry. */
  #auth: readonly [string, string] | undefined;
  /** The peer refused RTP/SAVP: our offers are plain RTP from now on. */
  #plain = false;
  #lastProvisional = 0;
  /** The Min-SE a 422 asked for (RFC 4028 7.4). */
  #minSE: number | undefined;

  constructor(callId: string, target: DialTarget, ports: MediaPorts, env: SessionEnv) {
    super(callId, 'outgoing', ports, env);
    this.#target = target;
  }

  get parties(): { from: string; to: string } {
    return { from: this.#target.from, to: this.#target.uri };
  }

  start(): void {
    // SRTP=offer over TLS: RTP/SAVP first, plain RTP once if the peer refuses it (488)
    const srtp = this.sdp.negotiation().srtp;
    this.#client = inviteClientStart(1, srtp?.mode === 'offer' && srtp.secure);
    this.actor.start();
    this.send({ type: 'client.dial' });
  }

  /** The INVITE in flight (tests read its headers). */
  get invite(): ParsedRequest | undefined {
    return this.#invite;
  }

  protected fallbackHop() {
    return this.#target.dest;
  }

  protected actions(): MachineActions {
    return {
      sendInvite: () => this.#sendInvite(undefined),
      sendCancel: () => {
        if (!this.#invite) return;
        // RFC 3261 9.1: same Request-URI, Call-ID, To, From, CSeq number and top Via as the INVITE
        this.env.core.sendRequest(buildCancel(this.#invite), this.#target.dest, { onResponse: () => {} });
        // RFC 3261 9.1: "If there is no final response for the original request in 64*T1 seconds ... the
        // client SHOULD then consider the original transaction cancelled"
        this.after('cancel', 64 * this.env.timers.t1, { type: 'sip.timeout' });
      },
      sendAck: () => this.#sendAck(),
      sendRinging: () => {},
      startRingTimer: () => {},
      sendAnswer: () => {},
      sendReject: () => {},
      sendRequestTerminated: () => {},
    };
  }

  protected describe(type: EmittedType, ctx: CallContext): CallEvent | undefined {
    switch (type) {
      case 'call.ringing':
        return { type, callId: this.callId, status: this.#lastProvisional };
      case 'call.answered':
        return { type, callId: this.callId, direction: 'outgoing' };
      case 'call.failed':
        return { type, callId: this.callId, status: ctx.status ?? 500, reason: ctx.statusText ?? '' };
      case 'call.ended':
        return {
          type,
          callId: this.callId,
          direction: 'outgoing',
          reason: ctx.reason ?? 'local-hangup',
          status: ctx.status,
        };
      default:
        return undefined;
    }
  }

  #sendInvite(auth: readonly [string, string] | undefined): void {
    if (auth) this.#auth = auth;
    const timers = uacTimerHeaders(this.sessionTimer.settings, this.#minSE);
    const core = this.env.core;
    const request = buildRequest({
      method: 'INVITE',
      uri: this.#target.uri,
      via: core.sentBy(this.#target.dest.transport),
      branch: newBranch(),
      from: `${this.#target.from};tag=${this.#localTag}`,
      to: `<${this.#target.uri}>`,
      callId: this.callId,
      cseq: this.#client.cseq,
      contact: this.contact(),
      headers: [
        ...(auth ? [auth] : []),
        ...(this.#target.headers ?? []),
        ['Allow', this.env.core.allow],
        ['Supported', core.supported],
        ...timers,
        ['User-Agent', core.userAgent],
        ['Content-Type', 'application/sdp'],
      ],
      body: this.sdp.offer(this.#plain),
    });
    const tx = core.sendRequest(request, this.#target.dest, {
      onResponse: (r) => this.onResponse(r),
      onTimeout: () => this.send({ type: 'sip.timeout' }),
      onTransportError: () => this.send({ type: 'sip.failed', status: 503, reason: 'Service Unavailable' }),
    });
    this.#invite = tx.request;
  }

  /** Every response to our INVITE (and a 2xx retransmitted after its transaction ended). */
  onResponse(r: ParsedResponse): void {
    if (!this.#invite) return;
    const creds = this.#target.credentials;
    const [client, action] = inviteClientResponse(this.#client, r, (res) =>
      creds ? answerChallenge(res.msg, { method: 'INVITE', uri: this.#target.uri }, creds) : undefined,
    );
    this.#client = client;
    switch (action.type) {
      case 'provisional':
        // a far end that rings and then falls silent must not hold the call for ever (an INVITE transaction
        // in Proceeding has no timer of its own): CANCEL after Timer C's 3 minutes (RFC 3261 16.6 step 11)
        if (this.#lastProvisional === 0)
          this.after('ring', OUTGOING_RING_LIMIT_MS, { type: 'timer.noAnswer' });
        this.#lastProvisional = action.status;
        this.#maybeMedia(r); // 183 with SDP: early media
        this.send({ type: 'sip.provisional', status: action.status });
        return;
      case 'answered':
        this.#answered(r);
        return;
      case 'ack-again':
        if (this.#ack && this.dialog) this.env.core.sendStateless(this.#ack, this.usage.hop());
        return;
      case 'retry':
        this.#sendInvite(action.authorization);
        return;
      case 'retry-timer':
        this.log.info(
          { minSE: action.minSE },
          'session interval too small (422): calling again with a longer one',
        );
        this.#minSE = action.minSE;
        this.#sendInvite(this.#auth);
        return;
      case 'retry-plain':
        this.log.info({}, 'the peer refused SRTP (488): calling again with plain RTP');
        this.#plain = true;
        this.#sendInvite(this.#auth);
        return;
      case 'failed':
        this.send({ type: 'sip.failed', status: action.status, reason: action.reason });
        return;
      case 'ignore':
        return;
    }
  }

  /** The first 2xx confirms the dialog. */
  #answered(r: ParsedResponse): void {
    this.cancel('ring');
    this.cancel('cancel');
    this.usage.establish(dialogAsUac(this.#invite!, r));
    this.peerAllow = allowOf(r.msg);
    this.peerSupported = supportedOf(r.msg);
    this.env.registerDialog(this);
    const refused = this.#maybeMedia(r);
    this.send({ type: 'sip.answered' });
    this.sessionTimer.arm(uacSessionTimer(r.msg)); // RFC 4028 7.2
    if (refused) {
      // RFC 3261 13.2.2.4: "If the 2xx contains an offer/answer that is not acceptable, the UAC core ...
      // MUST ... send a BYE immediately" (after the ACK, which the answered state sends)
      this.log.warn({ reason: refused }, 'the answer is not acceptable: hanging up');
      this.send({ type: 'client.hangup' });
    }
  }

  /** Takes the SDP of a 183 or 2xx; returns why it is not acceptable, if it is not. */
  #maybeMedia(r: ParsedResponse): string | undefined {
    const text = sdpOf(r.msg);
    const sdp = text === undefined ? undefined : parseSdp(text);
    if (!sdp) return undefined;
    if (!sdp.ok) return `SDP: ${sdp.error}`;
    const taken = this.sdp.acceptAnswer(sdp.value);
    return taken === true ? undefined : taken;
  }

  /** RFC 3261 13.2.2.4: the ACK for a 2xx is built like an in-dialog request, with the INVITE's CSeq number. */
  #sendAck(): void {
    if (!this.#invite) return;
    const request = this.usage.ack(this.#invite.cseq.seq);
    if (!request) return;
    this.#ack = request;
    this.env.core.sendStateless(request, this.usage.hop());
  }
}
