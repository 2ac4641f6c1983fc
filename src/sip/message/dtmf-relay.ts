import { header } from './headers.ts';
import type { SipMessage } from './types.ts';

/**
 * The key an INFO request signals, in the two bodies PBXs use: application/dtmf-relay ("Signal=5",
 * Cisco/Asterisk) and application/dtmf (the bare key). Undefined for any other body.
 */
export function dtmfOfInfo(msg: SipMessage): string | undefined {
  const type = header(msg, 'content-type')?.toLowerCase() ?? '';
  const text = new TextDecoder().decode(msg.body);
  if (type.startsWith('application/dtmf-relay')) return /^Signal\s*=\s*([0-9A-D*#])/im.exec(text)?.[1];
  if (type.startsWith('application/dtmf')) return /^([0-9A-D*#])/.exec(text.trim())?.[1];
  return undefined;
}
