import { describe, expect, it } from 'vitest';
import { inviteClientResponse, inviteClientStart } from '../../../src/sip/dialog/invite-client.ts';
import {
  MAX_SESSION_EXPIRES,
  readSessionExpires,
  sessionTimerDelays,
  uacSessionTimer,
  uacTimerHeaders,
  uasSessionTimer,
} from '../../../src/sip/dialog/session-timer.ts';
import { parseMessage } from '../../../src/sip/message/parse.ts';
import { serialize } from '../../../src/sip/message/serialize.ts';
import type { SipResponse } from '../../../src/sip/message/types.ts';
import { parsedRequest, responseTo } from '../../helpers/messages.ts';

const settings = { expires: 1800, minSE: 90 };
const invite = (extra: string[]) => parsedRequest({ extra }).msg;

describe('session timers (RFC 4028), the pure rules', () => {
  it('an interval beyond a day (MAX_SESSION_EXPIRES) is reduced to a day, asked of us or given to us', () => {
    expect(
      uasSessionTimer(invite(['Supported: timer', 'Session-Expires: 4294967295;refresher=uac']), settings),
    ).toMatchObject({
      kind: 'accept',
      timer: { interval: MAX_SESSION_EXPIRES, refresher: 'them' },
      headers: [
        ['Session-Expires', `${MAX_SESSION_EXPIRES};refresher=uac`],
        ['Require', 'timer'],
      ],
    });
    // a Min-SE beyond the day does not raise it again
    expect(
      uasSessionTimer(invite(['Session-Expires: 4294967295', 'Min-SE: 4294967295']), settings),
    ).toMatchObject({ timer: { interval: MAX_SESSION_EXPIRES } });
    const ok = responseTo(parsedRequest(), 200);
    const granted = {
      ...ok.msg,
      headers: [...ok.msg.headers, { name: 'Session-Expires', value: '4294967295;refresher=uac' }],
    };
    expect(uacSessionTimer(granted)).toEqual({ interval: MAX_SESSION_EXPIRES, refresher: 'us' });
    // whatever it asks, every timer it arms fits Node's 32-bit milliseconds
    const d = sessionTimerDelays({ interval: MAX_SESSION_EXPIRES, refresher: 'us' });
    expect(Math.max(d.refreshMs!, d.expireMs)).toBeLessThan(2 ** 31 - 1);
  });

  it('UAS: echoes the interval and refresher with Require: timer for a UAC that supports timers', () => {
    expect(
      uasSessionTimer(invite(['Supported: timer', 'Session-Expires: 120;refresher=uac']), settings),
    ).toEqual({
      kind: 'accept',
      timer: { interval: 120, refresher: 'them' },
      headers: [
        ['Session-Expires', '120;refresher=uac'],
        ['Require', 'timer'],
      ],
    });
    // no refresher asked: the UAC that supports timers refreshes; compact form x
    expect(uasSessionTimer(invite(['k: timer', 'x: 300']), settings)).toMatchObject({
      timer: { interval: 300, refresher: 'them' },
      headers: [
        ['Session-Expires', '300;refresher=uac'],
        ['Require', 'timer'],
      ],
    });
    // refresher=uas: we refresh
    expect(
      uasSessionTimer(invite(['Supported: timer', 'Session-Expires: 600;refresher=uas']), settings),
    ).toMatchObject({
      timer: { interval: 600, refresher: 'us' },
    });
  });

  it('UAS: below our minimum, 422 with Min-SE to a UAC that supports timers; raised for one that does not', () => {
    expect(uasSessionTimer(invite(['Supported: timer', 'Session-Expires: 60']), settings)).toEqual({
      kind: 'reject',
      status: 422,
      headers: [['Min-SE', '90']],
    });
    expect(
      uasSessionTimer(invite(['Supported: timer', 'Session-Expires: 100']), { expires: 1800, minSE: 120 }),
    ).toMatchObject({
      kind: 'reject',
      headers: [['Min-SE', '120']],
    });
    // a proxy put Session-Expires in; the UAC knows nothing of timers: no 422 (it would fail the call),
    // the interval raised to our minimum, we refresh, and no Require (the UAC does not support it)
    expect(uasSessionTimer(invite(['Session-Expires: 30', 'Min-SE: 30']), settings)).toEqual({
      kind: 'accept',
      timer: { interval: 90, refresher: 'us' },
      headers: [['Session-Expires', '90;refresher=uas']],
    });
  });

  it('UAS: a UAC that supports timers but asks none gets SESSION_EXPIRES; one that knows nothing gets no timer', () => {
    expect(uasSessionTimer(invite(['Supported: timer, replaces']), settings)).toMatchObject({
      timer: { interval: 1800, refresher: 'them' },
    });
    expect(uasSessionTimer(invite([]), settings)).toEqual({ kind: 'accept', timer: undefined, headers: [] });
    // garbage is no header
    expect(readSessionExpires(invite(['Session-Expires: soon']))).toBeUndefined();
    expect(readSessionExpires(invite(['Session-Expires: 0']))).toBeUndefined();
  });

  it('UAC: what we ask for, what a 2xx grants, and the 422 retry', () => {
    expect(uacTimerHeaders(settings)).toEqual([
      ['Session-Expires', '1800'],
      ['Min-SE', '90'],
    ]);
    expect(uacTimerHeaders({ expires: 90, minSE: 90 }, 300)).toEqual([
      ['Session-Expires', '300'],
      ['Min-SE', '300'],
    ]);
    const ok = (se: string) => {
      const p = parseMessage(
        Buffer.from(
          `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n${se}Content-Length: 0\r\n\r\n`,
        ),
      );
      if (!p.ok) throw new Error(p.error.reason);
      return p.value.msg as SipResponse;
    };
    expect(uacSessionTimer(ok('Session-Expires: 90;refresher=uac\r\n'))).toEqual({
      interval: 90,
      refresher: 'us',
    });
    expect(uacSessionTimer(ok('Session-Expires: 90;refresher=uas\r\n'))).toEqual({
      interval: 90,
      refresher: 'them',
    });
    expect(uacSessionTimer(ok('Session-Expires: 120\r\n'))).toEqual({ interval: 120, refresher: 'us' });
    expect(uacSessionTimer(ok(''))).toBeUndefined();

    const inv = parsedRequest({});
    const r422 = responseTo(inv, 422);
    const withMinSE = parseMessage(
      Buffer.from(
        new TextDecoder()
          .decode(Buffer.from(serialize(r422.msg)))
          .replace('Content-Length: 0', 'Min-SE: 300\r\nContent-Length: 0'),
      ),
    );
    if (!withMinSE.ok) throw new Error('parse');
    const [s1, a1] = inviteClientResponse(inviteClientStart(1), withMinSE.value as never, () => undefined);
    expect(a1).toEqual({ type: 'retry-timer', cseq: 2, minSE: 300 });
    // a second 422 fails the call
    const again = responseTo(parsedRequest({ cseq: 2 }), 422);
    expect(inviteClientResponse(s1, again, () => undefined)[1]).toMatchObject({
      type: 'failed',
      status: 422,
    });
  });

  it("when each side acts: the refresher at half, the other side's BYE at the interval less min(32 s, a third)", () => {
    expect(sessionTimerDelays({ interval: 90, refresher: 'us' })).toEqual({
      refreshMs: 45_000,
      expireMs: 60_000,
    });
    expect(sessionTimerDelays({ interval: 1800, refresher: 'them' })).toEqual({
      refreshMs: undefined,
      expireMs: 1_768_000,
    });
  });
});

describe('reliable provisional responses (RFC 3262), the pure rules', () => {
  it('100rel asked for, RAck read, resends at T1 doubling until 64*T1', async () => {
    const { readRAck, reliableProvisionals, reliableSchedule } = await import(
      '../../../src/sip/dialog/prack.ts'
    );
    expect(reliableProvisionals(invite(['Require: 100rel']))).toBe('required');
    expect(reliableProvisionals(invite(['Supported: timer, 100rel']))).toBe('supported');
    expect(reliableProvisionals(invite([]))).toBeUndefined();
    expect(readRAck(invite(['RAck: 776656 1 INVITE']))).toEqual({ rseq: 776656, cseq: 1, method: 'INVITE' });
    expect(readRAck(invite(['RAck: 1 INVITE']))).toBeUndefined();
    const plan = reliableSchedule(500);
    expect(plan.resends).toEqual([500, 1000, 2000, 4000, 8000, 16000]);
    expect(plan.resends.reduce((a, b) => a + b, 0) + plan.giveUpAfter).toBe(32_000);
  });
});
