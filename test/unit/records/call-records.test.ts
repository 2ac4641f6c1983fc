import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { MediaManager } from '../../../src/io/media/media-manager.ts';
import { type CallRecord, CallRecords } from '../../../src/io/records/call-records.ts';
import type { CallEvent } from '../../../src/machines/call-events.ts';
import type { CallManager } from '../../../src/machines/call-manager.ts';

/** CallRecords fed by hand: the streams it reads from the call and media managers, and two clocks. */
function harness() {
  const events$ = new Subject<CallEvent>();
  const calls = {
    placed$: new Subject(),
    refused$: new Subject(),
    events$,
    parties: () => undefined,
  } as unknown as CallManager;
  const media = { ended$: new Subject(), saved$: new Subject() } as unknown as MediaManager;
  const clock = { wall: 1_700_000_000_000, mono: 5_000 };
  const records = new CallRecords(
    calls,
    media,
    undefined,
    { bufferMs: 60 },
    {
      wall: () => clock.wall,
      mono: () => clock.mono,
    },
  );
  const out: CallRecord[] = [];
  records.records$.subscribe((r) => out.push(r));
  return { events$, clock, records, out };
}

describe('call records', () => {
  it('durations come from the monotonic clock, timestamps from the wall clock (an NTP step mid-call)', () => {
    const { events$, clock, out } = harness();
    events$.next({
      type: 'call.incoming',
      callId: 'c1',
      from: '<sip:100@a>',
      to: 'sip:200@b',
      source: '127.0.0.1',
    });
    clock.wall += 2_000;
    clock.mono += 2_000;
    events$.next({ type: 'call.answered', callId: 'c1', direction: 'incoming' });
    // the wall clock is stepped an hour forward during the call; the call itself lasts 10 s more
    clock.wall += 3_600_000 + 10_000;
    clock.mono += 10_000;
    events$.next({
      type: 'call.ended',
      callId: 'c1',
      direction: 'incoming',
      reason: 'remote-bye',
      status: undefined,
    });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      start: new Date(1_700_000_000_000).toISOString(),
      answer: new Date(1_700_000_002_000).toISOString(),
      end: new Date(1_700_000_000_000 + 2_000 + 3_600_000 + 10_000).toISOString(),
      durationS: 12,
      talkS: 10,
    });
  });
});
