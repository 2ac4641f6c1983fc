import { describe, expect, it } from 'vitest';
import { header } from '../../src/sip/message/headers.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { coreHarness } from '../helpers/core-harness.ts';
import { listVectors, readVector, VECTORS_DIR, VECTORS_MISSING } from '../helpers/vectors.ts';

import { checkVector } from './check-vector.ts';
import { RFC4475 } from './rfc4475.table.ts';

describe.skipIf(!VECTORS_DIR)('RFC 4475 torture messages', () => {
  it('covers all 49 messages of the archive', () => {
    expect(listVectors('rfc4475').sort()).toEqual(Object.keys(RFC4475).sort());
  });

  for (const [file, want] of Object.entries(RFC4475)) {
    it(`${file}: ${want.parse === 'ok' ? 'parses' : 'is rejected'}, answer ${want.answer}`, () =>
      checkVector('rfc4475', file, want));
  }

  it('Content-Length matches the body in every file except the intended ones (INDEX framing check)', () => {
    const mismatched = listVectors('rfc4475').filter((f) => {
      const p = parseMessage(readVector('rfc4475', f));
      if (!p.ok) return true;
      const cl = header(p.value.msg, 'content-length');
      const data = readVector('rfc4475', f);
      return cl === undefined || data.length - bodyOffset(data) !== Number(cl);
    });
    expect(mismatched.sort()).toEqual(
      expect.arrayContaining(['clerr.dat', 'dblreq.dat', 'inv2543.dat', 'mcl01.dat', 'ncl.dat']),
    );
  });
});

if (!VECTORS_DIR) {
  describe('RFC 4475 torture messages (skipped)', () => {
    it.skip(VECTORS_MISSING, () => {});
  });
}

function bodyOffset(data: Uint8Array): number {
  const i = Buffer.from(data).indexOf('\r\n\r\n');
  return i === -1 ? data.length : i + 4;
}

describe.skipIf(!VECTORS_DIR)('a request whose only Via is malformed', () => {
  it('is dropped: a response could not be routed (RFC 3261 18.2.2)', () => {
    const h = coreHarness();
    expect(h.deliver(readVector('rfc4475', 'badinv01.dat'))).toEqual([]);
  });
});
