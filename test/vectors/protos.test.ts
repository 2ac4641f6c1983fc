import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { coreHarness } from '../helpers/core-harness.ts';
import { fillCase, groupOf, loadProtosCases } from '../helpers/protos.ts';
import { VECTORS_DIR, VECTORS_MISSING } from '../helpers/vectors.ts';

/** A hostile case must never cost more than this to parse (catastrophic backtracking would show here). */
const BUDGET_MS = 50;

describe.skipIf(!VECTORS_DIR)('PROTOS c07-sip: all 4,527 cases', () => {
  const cases = loadProtosCases();

  it('the archive holds 4,527 cases, each two records', () => {
    expect(cases).toHaveLength(4527);
    expect(cases[0]!.index).toBe(0);
  });

  it('the valid case 0 parses', () => {
    const p = parseMessage(fillCase(cases[0]!.invite, { port: 5999, id: '0' }));
    expect(p.ok ? 'ok' : p.error.reason).toBe('ok');
  });

  it('every case parses or is rejected with a typed error, within the time budget, no exception', () => {
    const slow: string[] = [];
    const outcome = new Map<string, { ok: number; rejected: number }>();
    for (const c of cases) {
      for (const [kind, template] of [
        ['invite', c.invite],
        ['teardown', c.teardown],
      ] as const) {
        const data = fillCase(template, { port: 5999, id: String(c.index) });
        const t0 = performance.now();
        const p = parseMessage(data); // a throw fails the test
        const ms = performance.now() - t0;
        if (ms > BUDGET_MS) slow.push(`${c.index} ${kind} ${ms.toFixed(1)} ms`);
        if (!p.ok) expect(p.error.status, `case ${c.index}`).toBeGreaterThanOrEqual(400);
        if (kind === 'invite') {
          const g = outcome.get(groupOf(c.index)) ?? { ok: 0, rejected: 0 };
          g[p.ok ? 'ok' : 'rejected']++;
          outcome.set(groupOf(c.index), g);
        }
      }
    }
    expect(slow).toEqual([]);
    // the valid-method groups must mostly parse, the broken-syntax groups mostly fail (sanity of the fill)
    expect(outcome.get('sip-via-host')!.ok).toBeGreaterThan(0);
    expect(outcome.get('sip-version')!.rejected).toBe(75);
  });

  it('the SIP core answers or drops every case without throwing, and still answers OPTIONS', async () => {
    const h = coreHarness();
    for (const c of cases) {
      h.deliver(fillCase(c.invite, { port: 5999, id: String(c.index) }));
      h.deliver(fillCase(c.teardown, { port: 5999, id: String(c.index) }));
    }
    const before = h.sent.length;
    h.deliver(
      'OPTIONS sip:relay@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKprobe;rport\r\n' +
        'From: <sip:p@127.0.0.1>;tag=1\r\nTo: <sip:relay@127.0.0.1>\r\nCall-ID: probe\r\nCSeq: 1 OPTIONS\r\n' +
        'Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n',
    );
    const answer = h.sent.slice(before)[0]?.message;
    expect(answer?.kind === 'response' && answer.status).toBe(200);
    // every response we sent goes to loopback only
    expect(new Set(h.sent.map((s) => s.dest.host))).toEqual(new Set(['127.0.0.1']));
    h.core.close();
  });
});

if (!VECTORS_DIR) {
  describe('PROTOS c07-sip (skipped)', () => {
    it.skip(VECTORS_MISSING, () => {});
  });
}
