import { badRequest, type SipError, sipError } from '../errors.ts';
import { header, headerValues } from '../message/headers.ts';
import type { ParsedRequest } from '../message/parse.ts';
import { KNOWN_METHODS, type UasPolicy } from './policy.ts';

/**
 * The UAS checks of RFC 3261 8.2, in the RFC's order: method (8.2.1), Request-URI scheme (8.2.2.1),
 * Require (8.2.2.3), body type and encoding (8.2.3), then Accept for INVITE (21.4.7). Returns the error to
 * answer with, or undefined when the request may go on. ACK is never answered, so callers skip it.
 */
export function checkRequest(req: ParsedRequest, policy: UasPolicy): SipError | undefined {
  const method = req.msg.method;
  const allow: [string, string] = ['Allow', policy.allow.join(', ')];

  // 8.2.1 "If a UAS does not understand a request method, it MUST respond with a 501"; "If the method is
  // not supported but understood, the UAS MUST generate a 405 (Method Not Allowed) [with] an Allow header"
  if (!KNOWN_METHODS.has(method)) return sipError(501, undefined, [allow]);
  if (!policy.allow.includes(method)) return sipError(405, undefined, [allow]);

  // 8.2.2.1 "If the Request-URI uses a scheme not supported by the UAS, it SHOULD reject the request with 416"
  if (req.ruri.kind !== 'sip') return sipError(416);

  // 8.2.2.3 "the UAS MUST respond with a 420 (Bad Extension) ... and include an Unsupported header field
  // listing those options it does not understand" (not for CANCEL, nor ACK)
  if (method !== 'CANCEL' && method !== 'ACK') {
    const unsupported = headerValues(req.msg, 'require')
      .filter((tag) => tag.length > 0)
      .filter((tag) => !policy.supported.includes(tag.toLowerCase()));
    if (unsupported.length > 0) return sipError(420, undefined, [['Unsupported', unsupported.join(', ')]]);
  }

  // 8.2.3 "If there are any bodies whose type (indicated by the Content-Type), language, or encoding are not
  // understood ... the UAS MUST reject the request with a 415 (Unsupported Media Type) response."
  if (req.msg.body.length > 0) {
    const type = header(req.msg, 'content-type');
    if (type === undefined) return badRequest('body without Content-Type');
    const mime = type.split(';')[0]!.trim().toLowerCase();
    const accepted = policy.accept[method] ?? [];
    if (!accepted.includes(mime)) {
      return sipError(415, undefined, [
        ['Accept', accepted.length > 0 ? accepted.join(', ') : 'application/sdp'],
      ]);
    }
    const encodings = headerValues(req.msg, 'content-encoding').map((e) => e.toLowerCase());
    if (encodings.some((e) => e !== 'identity' && e !== '')) {
      return sipError(415, undefined, [['Accept-Encoding', 'identity']]);
    }
  }

  // 21.4.7 406: we can only answer an INVITE with application/sdp
  if (method === 'INVITE') {
    const accept = headerValues(req.msg, 'accept').map((a) => a.split(';')[0]!.trim().toLowerCase());
    const ok =
      accept.length === 0 ||
      accept.some((a) => a === 'application/sdp' || a === 'application/*' || a === '*/*');
    if (!ok) return sipError(406, undefined, [['Accept', 'application/sdp']]);
  }
  return undefined;
}
