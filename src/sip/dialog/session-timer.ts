import { parseBoundedInt } from '../message/grammar.ts';
import { header, headerValues } from '../message/headers.ts';
import type { SipMessage } from '../message/types.ts';

/**
 * Session timers (RFC 4028), the pure rules: what an INVITE or UPDATE asks for, what we answer, who refreshes
 * and when each side acts. The call session runs the timers; nothing here sends.
 */

export interface SessionTimerSettings {
  /** SESSION_EXPIRES: the interval we ask for on calls out, and give a caller that supports timers. */
  readonly expires: number;
  /** SESSION_MIN_SE: the shortest interval we accept (RFC 4028 4: never below 90 s). */
  readonly minSE: number;
}

/** A running session timer: its interval in seconds, and whether we are the refresher. */
export interface SessionTimer {
  readonly interval: number;
  readonly refresher: 'us' | 'them';
}

/** RFC 4028 4: "Min-SE ... MUST NOT be less than 90 seconds"; and the default absent header means. */
export const MIN_SE_FLOOR = 90;

/**
 * The longest session interval we keep: a day. RFC 4028 sets no maximum, but a timer must fit Node's 32-bit
 * milliseconds (about 24.8 days; `Session-Expires: 4294967295` fired after 1 ms and ended the call at once).
 * A longer interval asked of us is reduced to this in our 2xx ("The UAS response MAY reduce its value but
 * MUST NOT set it to a duration lower than the value in the Min-SE header field", RFC 4028 9); one a 2xx
 * gives us is read as this, so without a refresh a call ends after a day.
 */
export const MAX_SESSION_EXPIRES = 86_400;

/** Session-Expires = delta-seconds *(SEMI se-params), se-params: refresher=uac|uas (clamped to a day). */
export function readSessionExpires(
  msg: SipMessage,
): { readonly interval: number; readonly refresher: 'uac' | 'uas' | undefined } | undefined {
  const v = header(msg, 'session-expires');
  if (v === undefined) return undefined;
  const [delta, ...params] = v.split(';').map((p) => p.trim());
  const interval = delta && /^\d{1,10}$/.test(delta) ? parseBoundedInt(delta, 0xffffffff) : undefined;
  if (interval === undefined || interval === 0) return undefined;
  const r = params.map((p) => p.toLowerCase()).find((p) => p.startsWith('refresher='));
  const refresher = r === 'refresher=uac' ? 'uac' : r === 'refresher=uas' ? 'uas' : undefined;
  return { interval: Math.min(interval, MAX_SESSION_EXPIRES), refresher };
}

/** The Min-SE a message names (RFC 4028 5: absent means 90), at most MAX_SESSION_EXPIRES. */
export function readMinSE(msg: SipMessage): number {
  const v = header(msg, 'min-se')?.split(';')[0]?.trim();
  const n = v && /^\d{1,10}$/.test(v) ? parseBoundedInt(v, 0xffffffff) : undefined;
  return Math.min(Math.max(n ?? MIN_SE_FLOOR, MIN_SE_FLOOR), MAX_SESSION_EXPIRES);
}

const supportsTimer = (msg: SipMessage): boolean =>
  [...headerValues(msg, 'supported'), ...headerValues(msg, 'require')].some(
    (t) => t.toLowerCase() === 'timer',
  );

export type UasTimerVerdict =
  | { readonly kind: 'reject'; readonly status: 422; readonly headers: Array<[string, string]> }
  | {
      readonly kind: 'accept';
      readonly timer: SessionTimer | undefined;
      /** Session-Expires (and Require: timer) for the 2xx. */
      readonly headers: Array<[string, string]>;
    };

/**
 * RFC 4028 9, the UAS: an INVITE (or a refresh, UPDATE or re-INVITE) asking for `Session-Expires`.
 * - Below our minimum, from a UAC that supports timers: "422 ... with a Min-SE header field containing its
 *   minimum". From one that does not (a proxy inserted the header), the interval is raised to our minimum
 *   instead (erratum 1687: rejecting would only fail the call).
 * - "If the UAC [does not request] a refresher ... and the UAC supports timers, the UAS ... can choose": we
 *   leave it to the UAC; otherwise "the UAS MUST ... [be] the refresher".
 * - With a timer, the 2xx carries Session-Expires with the refresher, and "Require: timer" when the UAC
 *   supports it (it MUST NOT when it does not).
 * - A UAC that supports timers but asks for none gets one of SESSION_EXPIRES ("the UAS MAY include ...").
 */
export function uasSessionTimer(req: SipMessage, s: SessionTimerSettings): UasTimerVerdict {
  const asked = readSessionExpires(req);
  const supported = supportsTimer(req);
  const ourMin = Math.max(s.minSE, MIN_SE_FLOOR);
  if (!asked && !supported) return { kind: 'accept', timer: undefined, headers: [] };
  let interval = asked?.interval ?? Math.max(s.expires, readMinSE(req), ourMin);
  if (interval < ourMin) {
    if (supported) return { kind: 'reject', status: 422, headers: [['Min-SE', String(ourMin)]] };
    interval = Math.max(ourMin, readMinSE(req));
  }
  const refresher = asked?.refresher ?? (supported ? 'uac' : 'uas');
  return {
    kind: 'accept',
    timer: { interval, refresher: refresher === 'uas' ? 'us' : 'them' },
    headers: [
      ['Session-Expires', `${interval};refresher=${refresher}`],
      ...(supported ? [['Require', 'timer'] as [string, string]] : []),
    ],
  };
}

/**
 * RFC 4028 7.1, the UAC: our INVITE says Supported: timer (the core adds it to every request) and asks for
 * `expires`, with our Min-SE; after a 422 the interval is the largest Min-SE it named (7.4).
 */
export function uacTimerHeaders(s: SessionTimerSettings, after422?: number): Array<[string, string]> {
  const minSE = Math.max(s.minSE, MIN_SE_FLOOR, after422 ?? 0);
  return [
    ['Session-Expires', String(Math.max(s.expires, minSE))],
    ['Min-SE', String(minSE)],
  ];
}

/**
 * RFC 4028 7.2: the 2xx to our INVITE (or UPDATE). Without Session-Expires there is no session timer; with
 * it, "refresher=uac" or no refresher parameter makes us the refresher ("If the 2xx response did not contain
 * a refresher parameter, the UAC MUST ... [act as] the refresher" is how 7.2's table reads).
 */
export function uacSessionTimer(res: SipMessage): SessionTimer | undefined {
  const se = readSessionExpires(res);
  if (!se) return undefined;
  return { interval: se.interval, refresher: se.refresher === 'uas' ? 'them' : 'us' };
}

/**
 * RFC 4028 10: the refresher refreshes "once half the session interval has elapsed"; the other side, seeing
 * no refresh, "SHOULD send a BYE ... slightly before the session expiration. The minimum of 32 seconds and
 * one third of the session interval is RECOMMENDED" (before it).
 */
export function sessionTimerDelays(t: SessionTimer): { refreshMs: number | undefined; expireMs: number } {
  const ms = t.interval * 1000;
  return {
    refreshMs: t.refresher === 'us' ? ms / 2 : undefined,
    expireMs: ms - Math.min(32_000, ms / 3),
  };
}
