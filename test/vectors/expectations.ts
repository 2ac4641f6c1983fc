import type { ParsedMessage } from '../../src/sip/message/parse.ts';

/**
 * What each RFC 4475 / RFC 5118 message must produce, from ../shared/vectors/INDEX.md, with the choice we
 * made where the INDEX allows several (liberal OK cases are rejected: we are a UAS, not a forgiving proxy).
 *
 * parse: 'ok' = the parser accepts it; 'error' = a typed parse error.
 * answer: the final status our relay sends (as a UAS with no call handler yet: a new INVITE gets 480,
 *   a request inside an unknown dialog 481, REGISTER/MESSAGE 405), or 'none' when it must stay silent
 *   (responses, whether valid or not, are never answered).
 */
export interface VectorExpectation {
  readonly parse: 'ok' | 'error';
  readonly answer: number | 'none';
  /** What the running relay answers when it differs (the call engine takes INVITEs: 200, or 488 when no
   * codec is common); `answer` is the SIP core's own verdict with no call handler. */
  readonly live?: number;
  /** Statuses the INDEX allows, when more than one (for documentation; `answer` is what we send). */
  readonly allowed?: readonly (number | 'none')[];
  readonly check?: (m: ParsedMessage) => void;
}

export type Table = Readonly<Record<string, VectorExpectation>>;
