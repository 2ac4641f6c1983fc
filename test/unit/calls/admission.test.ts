import { describe, expect, it } from 'vitest';
import { type InviteScreen, SettingUp, screenInvite } from '../../../src/machines/admission.ts';
import { negotiationOptions } from '../../../src/machines/call-settings.ts';
import { rawRequest } from '../../helpers/messages.ts';

const SDP = (codec: string) =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP ${codec}\r\n`;
const invite = (o: { sdp?: string; extra?: string[] } = {}) =>
  rawRequest({
    extra: [...(o.extra ?? []), ...(o.sdp ? ['Content-Type: application/sdp'] : [])],
    ...(o.sdp ? { body: o.sdp } : {}),
  });

const base: InviteScreen = {
  msg: invite({ sdp: SDP('0') }),
  source: '127.0.0.1',
  accepting: true,
  live: 0,
  maxCalls: 10,
  negotiation: negotiationOptions(
    {
      autoAnswer: true,
      ringDelayMs: 0,
      ringTimeoutMs: 0,
      codecs: ['PCMU', 'PCMA'],
      codecOrder: 'offer',
      mediaAddress: '127.0.0.1',
      contactUser: 'relay',
    },
    'udp',
  ),
  sessionTimers: { expires: 1800, minSE: 90 },
  settingUpFromSource: 0,
  maxSettingUpPerSource: 5,
  callIdInUse: false,
};

describe('screenInvite: whether a new INVITE may become a call (pure)', () => {
  it.each<[string, Partial<InviteScreen>, number | 'admit', string?]>([
    ['an acceptable offer', {}, 'admit'],
    ['no SDP at all (offer in the ACK)', { msg: invite() }, 'admit'],
    ['a stranger', { allowSource: () => false }, 403, 'stranger'],
    ['while shutting down', { accepting: false }, 503, 'record'],
    ['MAX_CALLS reached', { live: 10 }, 503, 'record'],
    ['SDP that does not parse', { msg: invite({ sdp: 'garbage' }) }, 400, 'record'],
    ['no common codec (RFC 3264)', { msg: invite({ sdp: SDP('18') }) }, 488, 'record'],
    [
      'a session interval below Min-SE (RFC 4028 9)',
      { msg: invite({ sdp: SDP('0'), extra: ['Session-Expires: 30', 'Supported: timer'] }) },
      422,
      'quiet',
    ],
    ['too many set-ups from one source', { settingUpFromSource: 5 }, 503, 'record'],
    ['a live Call-ID again', { callIdInUse: true }, 400, 'record'],
  ])('%s', (_, change, want, as) => {
    const r = screenInvite({ ...base, ...change });
    if (want === 'admit') expect(r.kind).toBe('admit');
    else expect(r).toMatchObject({ kind: 'refuse', status: want, as });
  });

  it('checks the cheapest and most hostile things first: a stranger at MAX_CALLS with bad SDP gets 403', () => {
    expect(
      screenInvite({ ...base, allowSource: () => false, live: 10, msg: invite({ sdp: 'garbage' }) }),
    ).toMatchObject({ status: 403 });
    expect(screenInvite({ ...base, live: 10, msg: invite({ sdp: 'garbage' }) })).toMatchObject({
      status: 503,
    });
  });

  it('SettingUp counts calls per source and forgets each once', () => {
    const s = new SettingUp();
    s.add('a', '10.0.0.1');
    s.add('b', '10.0.0.1');
    s.add('c', '10.0.0.2');
    expect([s.count('10.0.0.1'), s.count('10.0.0.2')]).toEqual([2, 1]);
    s.done('a');
    s.done('a');
    s.done('unknown');
    expect([s.count('10.0.0.1'), s.count('10.0.0.2')]).toEqual([1, 1]);
  });
});
