import type { CallEvent } from '../../machines/call-events.ts';
import { l16Samples } from '../../media/client-audio.ts';

/**
 * The original relay's text protocol (../shared/PROTOCOL-legacy.md), byte for byte: events out, commands in.
 * Pure: strings in, strings out.
 */

/** RING_ANS's caller: the From value cut at the first space, every '"' removed (exactly as the original). */
export function legacyCaller(from: string): string {
  const cut = from.indexOf(' ');
  return (cut === -1 ? from : from.slice(0, cut)).replaceAll('"', '');
}

/** Per-call facts the mapping needs beyond one event (was it answered? which direction?). */
export interface LegacyCallState {
  direction: 'incoming' | 'outgoing';
  answered: boolean;
}

/**
 * The legacy text for a call event, or undefined when the original had none:
 * RING_ANS on an incoming INVITE, CALL_ANS once (ACK in, 200 out), CALL_IGNORE on a 180 out, CALL_FAILED
 * (no call id, as the original), RING_IGNORE on CANCEL, BYE when an answered or incoming call ends.
 */
export function legacyEvent(e: CallEvent, state: LegacyCallState | undefined): string | undefined {
  switch (e.type) {
    case 'call.incoming':
      return `RING_ANS:${legacyCaller(e.from)}##${e.callId}`;
    case 'call.answered':
      return `CALL_ANS:${e.callId}`;
    case 'call.ringing':
      return e.status === 180 ? `CALL_IGNORE:${e.callId}` : undefined;
    case 'call.failed':
      return `CALL_FAILED:${e.status} ${e.reason}`;
    case 'call.cancelled':
      return `RING_IGNORE:${e.callId}`;
    case 'call.ended':
      if (e.reason === 'cancelled' || e.reason === 'failed') return undefined;
      if (state?.direction === 'outgoing' && !state.answered) return undefined;
      return `BYE:${e.callId}`;
    default:
      return undefined;
  }
}

/** RTP:{pt}##{hex}: every received audio packet, payload as lower-case hex (no call id, as the original). */
export function legacyRtp(payloadType: number, payload: Uint8Array): string {
  return `RTP:${payloadType}##${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('hex')}`;
}

export type LegacyCommand =
  | { kind: 'call'; number: string }
  | { kind: 'rtp'; callId: string; pcm: Int16Array }
  | { kind: 'hangup'; callId: string | undefined }
  | { kind: 'answer'; callId: string }
  | { kind: 'reject'; callId: string }
  | { kind: 'transfer'; callId: string; target: string };

/**
 * Parses a client command, splitting at the FIRST colon only (Call-IDs contain colons). Returns the
 * reason for an ERROR reply when the command is malformed.
 */
export function parseLegacyCommand(text: string): LegacyCommand | { error: string } {
  const colon = text.indexOf(':');
  const type = (colon === -1 ? text : text.slice(0, colon)).trim();
  const content = colon === -1 ? undefined : text.slice(colon + 1);
  switch (type) {
    case 'CALL': {
      const number = content?.trim() ?? '';
      // the original's rule: an optional + then 7-15 digits
      if (!/^\+?\d{7,15}$/.test(number)) return { error: `bad number "${number.slice(0, 40)}"` };
      return { kind: 'call', number };
    }
    case 'RTP': {
      const sep = content?.indexOf('##') ?? -1;
      if (!content || sep <= 0) return { error: 'RTP needs {call_id}##{base64 PCM}' };
      const b64 = content.slice(sep + 2).trim();
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) return { error: 'bad base64' };
      const bytes = Buffer.from(b64, 'base64');
      if (bytes.length === 0) return { error: 'empty audio' };
      if (bytes.length % 2 !== 0) return { error: 'odd byte count: audio is 16-bit PCM' };
      return { kind: 'rtp', callId: content.slice(0, sep), pcm: l16Samples(bytes) };
    }
    case 'HANGUP':
    case 'BYE':
      return { kind: 'hangup', callId: content?.trim() || undefined };
    case 'CALL_ANS':
      return content?.trim()
        ? { kind: 'answer', callId: content.trim() }
        : { error: 'CALL_ANS needs a call id' };
    case 'CALL_IGNORE':
      return content?.trim()
        ? { kind: 'reject', callId: content.trim() }
        : { error: 'CALL_IGNORE needs a call id' };
    case 'TRANSFER': {
      // an extension of ours: TRANSFER:{call_id}##{target} (a number or a sip: URI)
      const sep = content?.indexOf('##') ?? -1;
      const target = sep > 0 ? content!.slice(sep + 2).trim() : '';
      if (!content || sep <= 0 || !target) return { error: 'TRANSFER needs {call_id}##{target}' };
      return { kind: 'transfer', callId: content.slice(0, sep).trim(), target };
    }
    default:
      return { error: `unknown command "${type.slice(0, 40)}"` };
  }
}
