import { describe, expect, it } from 'vitest';
import { fuzzRun } from '../helpers/fuzz-run.ts';

// The bounded form; `npm run fuzz` runs 100,000 messages (FUZZ_MESSAGES, FUZZ_SEED).
describe('fuzzing a running relay over UDP (real dialogs, mutated requests)', () => {
  it('4,000 messages: no crash, OPTIONS answered throughout, nothing left afterwards', async () => {
    const { report, left, errors } = await fuzzRun(4000, 20261203);
    console.log(`fuzz: ${JSON.stringify(report)}`);
    expect(report.sent).toBeGreaterThan(3000);
    expect(report.responses).toBeGreaterThan(1000);
    expect(report.probes).toBeGreaterThan(40);
    expect(report.probesAnswered).toBe(report.probes);
    expect(report.worstProbeMs).toBeLessThan(1000);
    expect(errors).toEqual([]);
    expect(left).toEqual({ calls: 0, dialogs: 0, transactions: 0, timers: 0, media: 0, ports: 0 });
  }, 60_000);
});
