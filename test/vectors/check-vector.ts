import { expect } from 'vitest';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { coreHarness } from '../helpers/core-harness.ts';
import { isResponse, readVector, withLoopbackVia } from '../helpers/vectors.ts';
import type { VectorExpectation } from './expectations.ts';

/**
 * One vector, read byte-exact: the parser's verdict and field checks, then the SIP core's answer. Requests
 * get a new top Via naming a loopback peer, as on the wire (INDEX.md), so the answer has a route.
 */
export async function checkVector(group: 'rfc4475' | 'rfc5118', file: string, want: VectorExpectation) {
  const data = readVector(group, file);
  const parsed = parseMessage(data);
  if (want.parse === 'ok') expect(parsed.ok ? 'ok' : parsed.error.reason).toBe('ok');
  else expect(parsed.ok).toBe(false);
  if (parsed.ok) want.check?.(parsed.value);

  const h = coreHarness();
  const sent = h.deliver(isResponse(data) ? data : withLoopbackVia(data, 5999, `z9hG4bK-unit-${file}`));
  await Promise.resolve();
  if (want.answer === 'none') {
    expect(sent).toEqual([]);
    return;
  }
  const finals = sent.filter((s) => s.message.kind === 'response' && s.message.status >= 200);
  expect(finals.map((s) => (s.message.kind === 'response' ? s.message.status : 0))).toEqual([want.answer]);
  expect(finals[0]!.dest).toEqual({ host: '127.0.0.1', port: 5999 });
}
