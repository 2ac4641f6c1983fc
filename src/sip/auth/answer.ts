import { headerValues } from '../message/headers.ts';
import { randomToken } from '../message/ids.ts';
import type { Header } from '../message/types.ts';
import { authorizationHeader, pickChallenge } from './digest.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/**
 * The header that answers a digest challenge, for the request to send again: a 401's WWW-Authenticate is
 * answered with Authorization, a 407's Proxy-Authenticate with Proxy-Authorization (RFC 3261 22.2, 22.3),
 * the first challenge we support chosen (RFC 8760 2.4). Undefined for any other response, or when no
 * challenge in it is usable. One place for every UAC that retries on 401/407 (calls, registration).
 */
export function answerChallenge(
  response: { readonly status: number; readonly headers: readonly Header[] },
  request: { readonly method: string; readonly uri: string },
  credentials: Credentials,
  cnonce: string = randomToken(16),
): [name: string, value: string] | undefined {
  if (response.status !== 401 && response.status !== 407) return undefined;
  const proxy = response.status === 407;
  const challenge = pickChallenge(headerValues(response, proxy ? 'proxy-authenticate' : 'www-authenticate'));
  if (!challenge) return undefined;
  const value = authorizationHeader({
    challenge,
    method: request.method,
    uri: request.uri,
    username: credentials.username,
    password: credentials.password,
    cnonce,
    nc: 1,
  });
  return [proxy ? 'Proxy-Authorization' : 'Authorization', value];
}
