import type { SipMessage } from './types.ts';

const enc = new TextEncoder();

export function startLine(msg: SipMessage): string {
  return msg.kind === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

/** The message as wire bytes: headers exactly as held (builders add Content-Length), CRLF line ends. */
export function serialize(msg: SipMessage): Uint8Array {
  let head = `${startLine(msg)}\r\n`;
  for (const h of msg.headers) head += `${h.name}: ${h.value}\r\n`;
  head += '\r\n';
  const headBytes = enc.encode(head);
  if (msg.body.length === 0) return headBytes;
  const out = new Uint8Array(headBytes.length + msg.body.length);
  out.set(headBytes, 0);
  out.set(msg.body, headBytes.length);
  return out;
}
