import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import { speechLike } from '../helpers/audio.ts';
import { hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { talkingCallers } from '../helpers/sipp.ts';

describe.skipIf(!hasBinary('sipp'))('RTP inactivity', () => {
  it('a caller that stops sending RTP is hung up after RTP_TIMEOUT_S (BYE), and its ports come back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inactive-'));
    writeFileSync(join(dir, 'short.ulaw'), encodeG711('PCMU', speechLike(8000, 0.4, 3)));
    const cdr = join(dir, 'calls.jsonl');
    const relay = await startTestRelay({
      RTP_TIMEOUT_S: '1',
      RTP_PORT_START: '47400',
      RTP_PORT_END: '47499',
      METRICS_PORT: '0',
      CDR_FILE: cdr,
    });
    const events: CallEvent[] = [];
    relay.calls.events$.subscribe((e) => events.push(e));
    const t0 = performance.now();
    const r = await talkingCallers(`127.0.0.1:${relay.sip.port}`, join(dir, 'short.ulaw'), {
      loops: 1,
      timeoutMs: 20_000,
    });
    const took = performance.now() - t0;
    const metrics = await (await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`)).text();
    await relay.close();
    expect(r.code, r.stdout.slice(-1500)).toBe(0); // sipp received our BYE and answered it
    // its own reason, not a client's hang-up: in the event, the metrics and the call record
    expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'rtp-timeout' });
    expect(metrics).toMatch(/sip_relay_calls_ended_total\{[^}]*reason="rtp-timeout"[^}]*\} 1/);
    expect(JSON.parse(readFileSync(cdr, 'utf8').trim())).toMatchObject({ endReason: 'rtp-timeout' });
    expect(took).toBeGreaterThan(1000);
    expect(took).toBeLessThan(15_000); // ended by the relay, well before sipp's own 20 s timeout
    expect(relay.ports.inUse).toBe(0);
  }, 30_000);
});
