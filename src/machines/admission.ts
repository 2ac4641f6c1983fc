import {
  chooseMedia,
  type NegotiationOptions,
  parseSdp,
  type SessionDescription,
  sdpOf,
} from '../sdp/index.ts';
import { type SessionTimerSettings, uasSessionTimer } from '../sip/dialog/session-timer.ts';
import type { SipMessage } from '../sip/message/types.ts';

/** What the admission of a new INVITE looks at, before any resource (port, route, actor) is taken. */
export interface InviteScreen {
  /** The INVITE (its SDP, Session-Expires, Min-SE, Supported). */
  readonly msg: SipMessage;
  readonly source: string;
  /** Whether the source may call at all (SIP_ALLOWED_SOURCES); absent: everyone. */
  readonly allowSource?: ((address: string) => boolean) | undefined;
  /** False while the relay shuts down. */
  readonly accepting: boolean;
  /** Calls live or being set up, and the ceiling (MAX_CALLS). */
  readonly live: number;
  readonly maxCalls: number;
  /** Our codecs, order and SRTP policy for the INVITE's transport. */
  readonly negotiation: NegotiationOptions;
  readonly sessionTimers: SessionTimerSettings;
  /** Calls from this source not established yet, and how many one source may have (unset: no limit). */
  readonly settingUpFromSource: number;
  readonly maxSettingUpPerSource?: number | undefined;
  /** The Call-ID belongs to a live call, or one whose ports are being bound. */
  readonly callIdInUse: boolean;
}

/** A refusal: the final response, whether it is a call record, and what to log. */
export interface Refusal {
  readonly kind: 'refuse';
  readonly status: number;
  readonly reason?: string;
  readonly headers?: Array<[string, string]>;
  /**
   * `record`: an INVITE answered before it became a call (records and status callbacks hear of it);
   * `stranger`: counted and logged once a minute only; `quiet`: answered, nothing else.
   */
  readonly as: 'record' | 'stranger' | 'quiet';
  readonly log?: { readonly level: 'info' | 'warn'; readonly msg: string; readonly fields: object };
}

export type Screening = { readonly kind: 'admit'; readonly offer: SessionDescription | undefined } | Refusal;

/**
 * Whether a new INVITE may become a call, checked in this order, cheapest and most hostile first: its
 * source, shutdown, MAX_CALLS, its SDP (RFC 3264: no common codec -> 488), its session interval (RFC 4028
 * 9: 422), the per-source set-up limit, a Call-ID already live. Pure: the call manager answers and counts.
 */
export function screenInvite(s: InviteScreen): Screening {
  if (s.allowSource && !s.allowSource(s.source)) return { kind: 'refuse', status: 403, as: 'stranger' };
  if (!s.accepting) return { kind: 'refuse', status: 503, headers: [['Retry-After', '30']], as: 'record' };
  if (s.live >= s.maxCalls)
    return {
      kind: 'refuse',
      status: 503,
      reason: 'Service Unavailable (too many calls)',
      headers: [['Retry-After', '5']],
      as: 'record',
      log: { level: 'warn', msg: 'MAX_CALLS reached: 503', fields: { max: s.maxCalls } },
    };
  let offer: SessionDescription | undefined;
  const text = sdpOf(s.msg);
  if (text !== undefined) {
    const parsed = parseSdp(text);
    if (!parsed.ok)
      return { kind: 'refuse', status: 400, reason: `Bad Request (SDP: ${parsed.error})`, as: 'record' };
    const chosen = chooseMedia(parsed.value, s.negotiation);
    if (!chosen.ok)
      return {
        kind: 'refuse',
        status: 488,
        reason: `Not Acceptable Here (${chosen.error})`,
        headers: [['Accept', 'application/sdp']],
        as: 'record',
        log: {
          level: 'info',
          msg: 'INVITE not acceptable: 488',
          fields: { source: s.source, reason: chosen.error },
        },
      };
    offer = parsed.value;
  }
  const timer = uasSessionTimer(s.msg, s.sessionTimers);
  if (timer.kind === 'reject')
    return {
      kind: 'refuse',
      status: 422,
      headers: timer.headers,
      as: 'quiet',
      log: {
        level: 'info',
        msg: 'session interval too small: 422',
        fields: { source: s.source, minSE: timer.headers[0]?.[1] },
      },
    };
  // one source cannot hold every call slot with INVITEs it never completes
  const limit = s.maxSettingUpPerSource;
  if (limit !== undefined && s.settingUpFromSource >= limit)
    return {
      kind: 'refuse',
      status: 503,
      reason: 'Service Unavailable (too many calls being set up from this source)',
      headers: [['Retry-After', '5']],
      as: 'record',
      log: {
        level: 'warn',
        msg: 'too many calls being set up from this source: 503',
        fields: { source: s.source, limit },
      },
    };
  // Everything that outlives a call (media session, WebSocket state, recordings, the legacy protocol's
  // call_id) is named by Call-ID, which RFC 3261 8.1.1.4 makes globally unique. A second INVITE reusing a
  // live call's Call-ID with another From tag is a new dialog on paper, but it would overwrite the first
  // call and leak its RTP ports: refuse it.
  if (s.callIdInUse)
    return {
      kind: 'refuse',
      status: 400,
      reason: 'Bad Request (Call-ID already in use)',
      as: 'record',
      log: {
        level: 'warn',
        msg: 'INVITE reusing the Call-ID of a live call: 400',
        fields: { source: s.source },
      },
    };
  return { kind: 'admit', offer };
}

/** Incoming calls not established yet, per source IP (the per-source set-up limit counts them). */
export class SettingUp {
  readonly #from = new Map<string, string>();
  readonly #count = new Map<string, number>();

  count(source: string): number {
    return this.#count.get(source) ?? 0;
  }

  add(callId: string, source: string): void {
    this.#from.set(callId, source);
    this.#count.set(source, this.count(source) + 1);
  }

  /** The call was established, ended or never became one (idempotent). */
  done(callId: string): void {
    const ip = this.#from.get(callId);
    if (ip === undefined) return;
    this.#from.delete(callId);
    const n = this.count(ip) - 1;
    if (n <= 0) this.#count.delete(ip);
    else this.#count.set(ip, n);
  }
}
