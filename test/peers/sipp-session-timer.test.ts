import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import type { Relay } from '../../src/relay.ts';
import { speechLike } from '../helpers/audio.ts';
import { fastClock } from '../helpers/fast-clock.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, sipp } from '../helpers/sipp.ts';

/**
 * Session timers (RFC 4028) against sipp. The relay runs on a clock whose timers of 40 s and more go 20
 * times faster (a 90 s interval: refresh at 45 s -> 2.25 s, expiry BYE at 60 s -> 3 s); sipp runs in real
 * time, so its refreshes must really arrive in time.
 */
const FAST = 20;

describe.skipIf(!hasBinary('sipp'))('session timers (RFC 4028) with sipp', () => {
  let relay: Relay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  async function start(env: Record<string, string> = {}) {
    relay = await startTestRelay(
      { RTP_PORT_START: '48700', RTP_PORT_END: '48799', ...env },
      { clock: fastClock(FAST) },
    );
    const events: Array<CallEvent & { at: number }> = [];
    relay.calls.events$.subscribe((e) => events.push({ ...e, at: performance.now() }));
    return { relay, events };
  }

  const voice = () => {
    const dir = mkdtempSync(join(tmpdir(), 'timer-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 5)));
    return join(dir, 'voice.ulaw');
  };

  it('the 200 echoes Session-Expires: 90;refresher=uac with Require: timer; UPDATE refreshes keep the call; unrefreshed, the relay sends BYE', async () => {
    const { relay: r, events } = await start();
    const run = await relayCaller('uac-timer.xml', r.sip.port, voice(), { timeoutMs: 30_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const answered = events.find((e) => e.type === 'call.answered')!;
    const ended = events.find((e) => e.type === 'call.ended')!;
    expect(ended).toMatchObject({ reason: 'session-expired' });
    // without the refreshes the BYE would come 3 s (60 s) after the answer; each UPDATE restarted the timer
    const lasted = ended.at - answered.at;
    expect(lasted).toBeGreaterThan(5_500);
    expect(lasted).toBeLessThan(9_000);
    expect(run.messages()).toMatch(
      /SIP\/2\.0 200 OK[\s\S]*?CSeq: 3 UPDATE[\s\S]*?Session-Expires: 90;refresher=uac/,
    );
  });

  it('Session-Expires below SESSION_MIN_SE from a caller that supports timers: 422 with Min-SE: 90, then the retry is answered', async () => {
    const { relay: r, events } = await start();
    const run = await relayCaller('uac-timer-422.xml', r.sip.port, undefined, { timeoutMs: 20_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(events.filter((e) => e.type === 'call.incoming')).toHaveLength(1); // the 422 made no call
    expect(events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'remote-bye' });
  });

  for (const [scenario, method] of [
    ['uas-timer.xml', 'UPDATE'],
    ['uas-timer-reinvite.xml', 're-INVITE'],
  ] as const) {
    it(`calls out: Session-Expires: 1800 offered; answered as refresher=uac, the relay refreshes by ${method} at half the interval`, async () => {
      const port = await freeUdpPort();
      const peer = sipp(scenario, undefined, ['-m', '1', '-trace_msg'], 30_000, port);
      await new Promise((res) => setTimeout(res, 300));
      const { relay: r, events } = await start({
        SIP_SERVER_IP: '127.0.0.1',
        SIP_TRANSFER_PORT: String(port),
      });
      const dial = await r.calls.dial('0912345678');
      expect(dial.ok).toBe(true);
      // two refreshes: at 2.25 s and 4.5 s after the answer (45 s and 90 s); then we hang up
      await new Promise((res) => setTimeout(res, 5_600));
      expect(events.some((e) => e.type === 'call.ended')).toBe(false);
      expect(r.calls.hangup(dial.ok ? dial.callId : '')).toBe(true);
      const run = await peer;
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'local-hangup' });
    });
  }
});
