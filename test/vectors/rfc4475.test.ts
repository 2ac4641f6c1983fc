import { describe, expect, it } from 'vitest';
import { header } from '../../src/sip/message/headers.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { coreHarness } from '../helpers/core-harness.ts';
import {
  isResponse,
  listVectors,
  readVector,
  VECTORS_DIR,
  VECTORS_MISSING,
  withLoopbackVia,
} from '../helpers/vectors.ts';

import { RFC4475 } from './rfc4475.table.ts';

describe.skipIf(!VECTORS_DIR)('RFC 4475 torture messages', () => {
  it('covers all 49 messages of the archive', () => {
    expect(listVectors('rfc4475').sort()).toEqual(Object.keys(RFC4475).sort());
  });

  for (const [file, want] of Object.entries(RFC4475)) {
    it(`${file}: ${want.parse === 'ok' ? 'parses' : 'is rejected'}, answer ${want.answer}`, async () => {
      const data = readVector('rfc4475', file);
      const parsed = parseMessage(data);
      if (want.parse === 'ok') expect(parsed.ok ? 'ok' : parsed.error.reason).toBe('ok');
      else expect(parsed.ok).toBe(false);
      if (parsed.ok) want.check?.(parsed.value);

      // as on the wire (INDEX.md): a new top Via routes the answer to our loopback peer
      const h = coreHarness();
      const sent = h.deliver(isResponse(data) ? data : withLoopbackVia(data, 5999, `z9hG4bK-unit-${file}`));
      await Promise.resolve();
      const finals = sent.filter((s) => s.message.kind === 'response' && s.message.status >= 200);
      if (want.answer === 'none') expect(sent).toEqual([]);
      else {
        expect(finals.map((s) => (s.message.kind === 'response' ? s.message.status : 0))).toEqual([
          want.answer,
        ]);
        expect(finals[0]!.dest).toEqual({ host: '127.0.0.1', port: 5999 });
      }
    });
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
