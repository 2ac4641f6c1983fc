import { describe, expect, it } from 'vitest';
import { spokenGreeting } from '../../../src/ai/call-center.ts';
import { parseConfig } from '../../../src/config/index.ts';
import { relaySettings, routeTable } from '../../../src/relay-settings.ts';

const facts = {
  callId: 'c',
  requestUser: '100',
  toUser: '100',
  fromUser: 'a',
  source: '127.0.0.1',
  headers: [],
};

const settings = (env: Record<string, string>) => {
  const r = parseConfig(env);
  if (!r.ok) throw new Error(r.problems.join('; '));
  return relaySettings(r.config);
};

describe('relaySettings (the configuration shaped once for the relay)', () => {
  it('upstream, From and AOR: IPv6 hosts bracketed, the display name quoted', () => {
    const s = settings({
      SIP_SERVER_IP: '2001:db8::1',
      SIP_TRANSFER_PORT: '5070',
      SIP_DISPLAY_NAME: 'Front "Desk"',
      SIP_FROM_USER: 'bot',
    });
    expect(s.upstream).toEqual({
      host: '2001:db8::1',
      port: 5070,
      uriHost: '[2001:db8::1]:5070',
      transport: 'udp',
    });
    expect(s.aor).toBe('sip:bot@[2001:db8::1]');
    expect(s.from).toBe(String.raw`"Front \"Desk\"" <sip:bot@[2001:db8::1]>`);
    expect(settings({ SIP_FROM_DOMAIN: 'pbx.example' }).aor).toBe('sip:relay@pbx.example');
  });

  it('credentials only with SIP_AUTH_USER; the source filter takes addresses and CIDRs', () => {
    expect(settings({}).credentials).toBeUndefined();
    expect(settings({ SIP_AUTH_USER: 'u', SIP_AUTH_PASSWORD: 'p' }).credentials).toEqual({
      username: 'u',
      password: 'p',
    });
    expect(settings({}).allowSource).toBeUndefined();
    const allow = settings({ SIP_ALLOWED_SOURCES: '10.0.0.0/8, 192.168.1.7, ::1' }).allowSource!;
    expect(['10.2.3.4', '192.168.1.7', '::1'].map(allow)).toEqual([true, true, true]);
    expect(['11.0.0.1', '192.168.1.8'].map(allow)).toEqual([false, false]);
  });

  it('the greeting: a path, the default (where a missing file means the chime), or none', () => {
    expect(settings({ OUTPUT_DIR: '/o' })).toMatchObject({
      greetingPath: '/o/transcode/greeting.wav',
      greetingIsDefault: true,
    });
    expect(settings({ GREETING_PATH: '/g.wav' })).toMatchObject({
      greetingPath: '/g.wav',
      greetingIsDefault: false,
    });
    expect(settings({ GREETING_PATH: 'none' }).greetingPath).toBeUndefined();
  });

  it('timers, calls, media and the dial target from their keys', () => {
    const s = settings({
      SIP_T1_MS: '250',
      SIP_AUTH_USER: 'u',
      RTP_TIMEOUT_S: '30',
      MAX_QUEUED_AUDIO_S: '5',
      RECORDING: 'true',
      RECORDING_DIR: '/rec',
      CODECS: 'PCMA',
    });
    expect([s.timers.t1, s.timers.B, s.timers.H]).toEqual([250, 64 * 250, 64 * 250]);
    expect(s.calls.codecs).toEqual(['PCMA']);
    expect(s.media).toMatchObject({ recordingDir: '/rec', inactivityMs: 30_000, maxQueuedMs: 5000 });
    expect(s.dial).toMatchObject({ dest: { port: s.upstream.port }, credentials: { username: 'u' } });
    expect(settings({ RECORDING: 'false' }).media.recordingDir).toBeUndefined();
    expect(settings({}).dial.credentials).toBeUndefined();
  });

  it('the AI speaks the greeting text only in the call center, with a text, and not with echo', () => {
    const text = { AI_GREETING_TEXT: 'Hello', OPENAI_API_KEY: 'k' };
    const greets = (env: Record<string, string>) => {
      const r = parseConfig(env);
      if (!r.ok) throw new Error(r.problems.join('; '));
      const d = routeTable(r.config).decide(facts);
      return d.kind === 'plan' ? spokenGreeting(d.plan.agent) : 'rejected';
    };
    expect(greets({ CALL_CENTER: 'true', ...text })).toBe('Hello');
    expect(greets({ CALL_CENTER: 'true', ...text, AI_PROVIDER: 'echo' })).toBeUndefined();
    expect(greets({ ...text })).toBeUndefined();
  });
});
