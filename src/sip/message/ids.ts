import { MAGIC_COOKIE } from './via.ts';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random token of n characters from the Web Crypto source (globalThis.crypto: no node import). */
export function randomToken(n = 10): string {
  const bytes = new Uint8Array(n);
  globalThis.crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += ALPHABET[b % ALPHABET.length];
  return s;
}

/** RFC 3261 8.1.1.7: unique across space and time, starting with the magic cookie. */
export const newBranch = (): string => `${MAGIC_COOKIE}${randomToken(16)}`;
export const newTag = (): string => randomToken(10);
export const newCallId = (host: string): string => `${randomToken(20)}@${host}`;
