import { header } from '../message/headers.ts';
import type { ParsedRequest } from '../message/parse.ts';
import type { SipMessage } from '../message/types.ts';

/**
 * REFER and its implicit subscription (RFC 3515, RFC 4488, RFC 6665): the pure rules both sides need. The
 * referrer reads the NOTIFYs; the recipient writes them. Nothing here sends.
 */

/** A SIP Status-Line at the start of a message/sipfrag body (RFC 3420), e.g. `SIP/2.0 180 Ringing`. */
export interface Sipfrag {
  readonly status: number;
  readonly reason: string;
}

/**
 * RFC 3515 2.4.5: "Each NOTIFY MUST contain a body of type "message/sipfrag" ... The body of a NOTIFY MUST
 * begin with a SIP Response Status-Line".
 */
export function parseSipfrag(body: Uint8Array): Sipfrag | undefined {
  const text = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 256)).toString('latin1');
  const m = /^SIP\/2\.0 ([1-6]\d\d)(?: ([^\r\n]*))?/.exec(text);
  return m ? { status: Number(m[1]), reason: (m[2] ?? '').trim() } : undefined;
}

/** The sipfrag body of a NOTIFY we send about a reference's progress. */
export function sipfrag(status: number, reason: string): { type: string; data: Uint8Array } {
  return {
    type: 'message/sipfrag;version=2.0',
    data: new TextEncoder().encode(`SIP/2.0 ${status} ${reason}\r\n`),
  };
}

/** What a NOTIFY says about the reference it reports on. */
export interface ReferNotify {
  /** The status line of the referred request's latest response, when the body carried one. */
  readonly frag: Sipfrag | undefined;
  /** Subscription-State: terminated (no NOTIFY follows). */
  readonly terminated: boolean;
}

export type ReferNotifyVerdict =
  | { readonly ok: true; readonly notify: ReferNotify }
  | { readonly ok: false; readonly status: 400 | 489; readonly reason: string };

/**
 * A NOTIFY inside a dialog where we sent a REFER. RFC 6665 8.2.1: the Event header names the package (a
 * NOTIFY of another package gets "489 Bad Event"); RFC 3515 2.4.4: the package is "refer". Subscription-State
 * is mandatory in a NOTIFY (RFC 6665 8.2.3).
 */
export function readReferNotify(req: ParsedRequest): ReferNotifyVerdict {
  const pkg = firstToken(header(req.msg, 'event'));
  if (pkg !== 'refer') return { ok: false, status: 489, reason: 'Bad Event' };
  const state = header(req.msg, 'subscription-state');
  if (!state) return { ok: false, status: 400, reason: 'Bad Request (no Subscription-State)' };
  const terminated = firstToken(state) === 'terminated';
  const type = firstToken(header(req.msg, 'content-type'));
  const frag = type === 'message/sipfrag' ? parseSipfrag(req.msg.body) : undefined;
  return { ok: true, notify: { frag, terminated } };
}

/** A header value before its parameters, lower-cased ("refer" of "Refer;id=7"). */
const firstToken = (value: string | undefined): string | undefined =>
  value?.split(';')[0]?.trim().toLowerCase();

/**
 * RFC 4488 4: "Refer-Sub: false" in a REFER asks for no implicit subscription; the recipient that honours it
 * says so with "Refer-Sub: false" in its 2xx, and then sends no NOTIFY.
 */
export function referSubSuppressed(msg: SipMessage): boolean {
  return header(msg, 'refer-sub')?.trim().toLowerCase() === 'false';
}

/**
 * The Refer-To of an attended transfer by REFER: the target's URI (its Contact) with a Replaces header naming
 * our dialog with it (RFC 3891 3: "the to-tag is compared to the local tag, and the from-tag ... to the
 * remote tag" of the UA receiving the INVITE, i.e. the target's tag, then ours), escaped as a URI header
 * value (RFC 3261 19.1.1).
 */
export function replacingReferTo(
  targetContact: string,
  dialog: { readonly callId: string; readonly localTag: string; readonly remoteTag: string },
): string {
  const replaces = `${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`;
  const base = targetContact.split('?')[0]!;
  return `${base}?Replaces=${encodeURIComponent(replaces)}`;
}
