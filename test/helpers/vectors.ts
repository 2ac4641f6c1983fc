import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The third-party SIP vectors are never committed: they are read from SIP_VECTORS_DIR or ../shared/vectors
 * beside the project. Where neither exists (a user's fresh clone) vector tests skip with this message.
 */
const here = dirname(fileURLToPath(import.meta.url));
const candidates = [process.env.SIP_VECTORS_DIR, resolve(here, '../../../shared/vectors')].filter(
  (p): p is string => typeof p === 'string' && p.length > 0,
);

export const VECTORS_DIR: string | undefined = candidates.find((p) => existsSync(join(p, 'INDEX.md')));
export const VECTORS_MISSING =
  'SIP vectors not found (set SIP_VECTORS_DIR or place ../shared/vectors beside the project): vector tests skipped';

if (!VECTORS_DIR) console.warn(VECTORS_MISSING);

export function readVector(group: 'rfc4475' | 'rfc5118', name: string): Uint8Array {
  return readFileSync(join(VECTORS_DIR!, group, name));
}

export function listVectors(group: 'rfc4475' | 'rfc5118'): string[] {
  if (!VECTORS_DIR) return [];
  return readdirSync(join(VECTORS_DIR, group)).filter((f) => f !== 'SHA256SUMS');
}

/** Inserts a new first Via pointing at our test socket, so the response comes back to 127.0.0.1 only. */
export function withLoopbackVia(data: Uint8Array, port: number, branch: string): Uint8Array {
  const text = Buffer.from(data);
  let start = 0;
  while (start < text.length && (text[start] === 0x0d || text[start] === 0x0a)) start++;
  const eol = text.indexOf(0x0a, start);
  const via = Buffer.from(`Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport\r\n`);
  return Buffer.concat([text.subarray(0, eol + 1), via, text.subarray(eol + 1)]);
}

/** A status line ("SIP/2.0 ...") rather than a request line. */
export const isResponse = (data: Uint8Array): boolean =>
  Buffer.from(data.subarray(0, 4)).toString('latin1') === 'SIP/';
