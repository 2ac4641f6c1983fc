import { describe, expect, it } from 'vitest';
import { header } from '../../src/sip/message/headers.ts';
import { coreHarness } from '../helpers/core-harness.ts';
import { listVectors, readVector, VECTORS_DIR, VECTORS_MISSING } from '../helpers/vectors.ts';

import { checkVector } from './check-vector.ts';
import { RFC5118 } from './rfc5118.table.ts';

describe.skipIf(!VECTORS_DIR)('RFC 5118 IPv6 torture messages', () => {
  it('covers all 12 messages (plus the recomputed ersip copy)', () => {
    expect(listVectors('rfc5118').sort()).toEqual(Object.keys(RFC5118).sort());
  });

  for (const [file, want] of Object.entries(RFC5118)) {
    it(`${file}: ${want.parse === 'ok' ? 'parses' : 'is rejected'}, answer ${want.answer}`, () =>
      checkVector('rfc5118', file, want));
  }

  it('answers an IPv6 sender at the address it came from (received, RFC 3261 18.2.1)', async () => {
    const h = coreHarness();
    const sent = h.deliver(readVector('rfc5118', 'via-received-param-no-delim'), {
      address: '::1',
      port: 5070,
    });
    expect(sent.map((s) => s.dest)).toEqual([{ host: '::1', port: 5060 }]);
    expect(header(sent[0]!.message, 'via')).toContain('received=[::1]');
  });
});

if (!VECTORS_DIR) {
  describe('RFC 5118 IPv6 torture messages (skipped)', () => {
    it.skip(VECTORS_MISSING, () => {});
  });
}
