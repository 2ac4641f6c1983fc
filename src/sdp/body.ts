import { header } from '../sip/message/headers.ts';
import type { Header } from '../sip/message/types.ts';

/**
 * The SDP inside a SIP body: application/sdp itself, or the application/sdp part of a multipart/mixed body
 * (RFC 5621; RFC 4475 3.1.1.11 sends one). Returns undefined when there is none.
 */
export function sdpFromBody(contentType: string | undefined, body: Uint8Array): string | undefined {
  if (!contentType || body.length === 0) return undefined;
  const [type, ...params] = contentType.split(';').map((s) => s.trim());
  const mime = type!.toLowerCase();
  const text = new TextDecoder('latin1').decode(body);
  if (mime === 'application/sdp') return text;
  if (mime !== 'multipart/mixed') return undefined;
  const b = params.find((p) => p.toLowerCase().startsWith('boundary='));
  if (!b) return undefined;
  const boundary = b.slice(9).replace(/^"|"$/g, '');
  for (const part of text.split(`--${boundary}`).slice(1)) {
    if (part.startsWith('--')) break;
    const sep = part.search(/\r?\n\r?\n/);
    if (sep === -1) continue;
    const head = part.slice(0, sep);
    if (/^content-type:\s*application\/sdp/im.test(head)) {
      return part
        .slice(sep)
        .replace(/^\r?\n\r?\n/, '')
        .replace(/\r?\n$/, '');
    }
  }
  return undefined;
}

/** The SDP a SIP message carries (its body, or the SDP part of a multipart body), or undefined. */
export function sdpOf(msg: {
  readonly headers: readonly Header[];
  readonly body: Uint8Array;
}): string | undefined {
  return sdpFromBody(header(msg, 'content-type'), msg.body);
}
