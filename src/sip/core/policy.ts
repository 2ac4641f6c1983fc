/**
 * What this user agent serves: consulted by validation (RFC 3261 8.2) and advertised in OPTIONS answers.
 */
export interface UasPolicy {
  /** Methods we act on (Allow). Other known methods get 405, unknown ones 501. */
  readonly allow: readonly string[];
  /** Option tags we support (Supported); a Require naming another gets 420. */
  readonly supported: readonly string[];
  /** Body types we understand, per method; a body of another type gets 415 with Accept. */
  readonly accept: Readonly<Record<string, readonly string[]>>;
  /** Server / User-Agent header value. */
  readonly userAgent: string;
}

/** Methods defined by RFC 3261 and its standard extensions: anything else is unknown (501). */
export const KNOWN_METHODS = new Set([
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'REGISTER',
  'PRACK',
  'SUBSCRIBE',
  'NOTIFY',
  'PUBLISH',
  'INFO',
  'REFER',
  'MESSAGE',
  'UPDATE',
]);

export function defaultPolicy(userAgent: string): UasPolicy {
  return {
    allow: ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'NOTIFY', 'UPDATE', 'REFER', 'PRACK'],
    // RFC 4028 session timers; RFC 4488 REFER without a subscription; RFC 3262 reliable provisionals
    supported: ['timer', 'norefersub', '100rel'],
    accept: {
      INVITE: ['application/sdp', 'multipart/mixed'],
      ACK: ['application/sdp', 'multipart/mixed'],
      OPTIONS: ['application/sdp'],
      INFO: ['application/dtmf-relay', 'application/dtmf'],
      // RFC 3515 2.4.5: a REFER's NOTIFY carries message/sipfrag
      NOTIFY: ['message/sipfrag'],
      UPDATE: ['application/sdp'],
    },
    userAgent,
  };
}
