import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig, parseConfig } from '../../../src/config/index.ts';

const root = resolve(import.meta.dirname, '../../..');

describe('config', () => {
  it('runs on a fresh machine with no .env: loopback binds and the original ports', () => {
    const r = parseConfig({});
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      SIP_LOCAL_IP: '127.0.0.1',
      SIP_LOCAL_PORT: 5062,
      SIP_TRANSFER_PORT: 5060,
      WS_HOST: '127.0.0.1',
      WS_PORT: 8080,
      RTP_PORT_START: 31000,
      RTP_PORT_END: 31399,
      SIP_LOG_FILE: 'sip_server.log',
      RECORDING_DIR: './recording',
      MAX_RECORDING_AGE_DAYS: 7,
      CALL_CENTER_BUFFER_SIZE: 500,
      CALL_CENTER: false,
      aiProvider: 'echo',
    });
  });

  it('accepts the original Python level names and empty values as unset', () => {
    const r = parseConfig({ LOG_LEVEL: 'WARNING', OPENAI_API_KEY: '', SIP_LOCAL_PORT: ' ' });
    expect(r.ok && [r.config.LOG_LEVEL, r.config.OPENAI_API_KEY, r.config.SIP_LOCAL_PORT]).toEqual([
      'warn',
      undefined,
      5062,
    ]);
  });

  it('OPENAI_API_KEY is required only when an AI feature is on (the original required it always)', () => {
    expect(parseConfig({ CALL_CENTER: 'false', AI_PROVIDER: 'openai' }).ok).toBe(true);
    expect(parseConfig({ CALL_CENTER: 'true' }).ok).toBe(true); // echo provider needs no key
    const r = parseConfig({ CALL_CENTER: 'true', AI_PROVIDER: 'openai-realtime' });
    expect(!r.ok && r.problems).toEqual([
      'OPENAI_API_KEY: is required when CALL_CENTER=true with AI_PROVIDER=openai-realtime',
    ]);
    const k = parseConfig({ OPENAI_API_KEY: 'sk-test' });
    expect(k.ok && k.config.aiProvider).toBe('openai');
  });

  it('SRTP_SUITES: known suite names, each once, in our order of preference', () => {
    const d = parseConfig({});
    expect(d.ok && d.config.SRTP_SUITES).toEqual([
      'AES_CM_128_HMAC_SHA1_80',
      'AES_CM_128_HMAC_SHA1_32',
      'AEAD_AES_128_GCM',
    ]);
    const g = parseConfig({ SRTP_SUITES: 'AEAD_AES_128_GCM, AES_CM_128_HMAC_SHA1_80' });
    expect(g.ok && g.config.SRTP_SUITES).toEqual(['AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80']);
    const bad = parseConfig({ SRTP_SUITES: 'AES_256_CM_HMAC_SHA1_80' });
    expect(!bad.ok && bad.problems[0]).toMatch(
      /^SRTP_SUITES: must list one or more of AES_CM_128_HMAC_SHA1_80/,
    );
    const twice = parseConfig({ SRTP_SUITES: 'AEAD_AES_128_GCM,AEAD_AES_128_GCM' });
    expect(!twice.ok && twice.problems[0]).toMatch(/^SRTP_SUITES: must not list a suite twice/);
  });

  it('TRANSFER_ALLOWED_TARGETS: every bad pattern named; by default only the upstream host', async () => {
    const bad = parseConfig({ TRANSFER_ALLOWED_TARGETS: 'pbx.local, sip:1@pbx;maddr=x, not a host' });
    expect(!bad.ok && bad.problems).toEqual([
      expect.stringMatching(/^TRANSFER_ALLOWED_TARGETS: .*maddr=x.*; "not a host"/),
    ]);
    const { relaySettings } = await import('../../../src/relay-settings.ts');
    const d = parseConfig({ SIP_SERVER_IP: '10.0.0.5', TRANSFER_ALLOWED_TARGETS: '' });
    expect(d.ok && relaySettings(d.config).transferTargets.map((p) => p.text)).toEqual(['10.0.0.5']);
  });

  it('AI_TOOLS: all three by default, none, a subset; an unknown name is a problem', () => {
    const d = parseConfig({});
    expect(d.ok && d.config.AI_TOOLS).toEqual(['transfer_call', 'end_call', 'send_dtmf']);
    const none = parseConfig({ AI_TOOLS: 'none' });
    expect(none.ok && none.config.AI_TOOLS).toEqual([]);
    const some = parseConfig({ AI_TOOLS: 'end_call' });
    expect(some.ok && some.config.AI_TOOLS).toEqual(['end_call']);
    const bad = parseConfig({ AI_TOOLS: 'end_call, dial_anywhere' });
    expect(!bad.ok && bad.problems[0]).toMatch(
      /^AI_TOOLS: must list transfer_call, end_call, send_dtmf, or be none/,
    );
  });

  it('lists every problem at once, cross-key rules included', () => {
    const r = parseConfig({
      SIP_LOCAL_IP: '192.168.1.300',
      SIP_LOCAL_PORT: 'abc',
      WS_PORT: '70000',
      LOG_LEVEL: 'loud',
      RTP_PORT_START: '40000',
      CALL_CENTER: 'maybe',
      OPENAI_BASE_URL: 'not a url',
      SIP_T1_MS: '5000',
      PROCESS_NICE: '-21',
      REALTIME_PRIORITY: '0',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const keys = r.problems.map((p) => p.split(':')[0]);
    expect(keys).toEqual(
      expect.arrayContaining([
        'SIP_LOCAL_IP',
        'SIP_LOCAL_PORT',
        'WS_PORT',
        'LOG_LEVEL',
        'CALL_CENTER',
        'OPENAI_BASE_URL',
        'PROCESS_NICE',
        'REALTIME_PRIORITY',
        'RTP_PORT_START',
        'SIP_T2_MS',
      ]),
    );
    expect(r.problems.find((p) => p.startsWith('SIP_LOCAL_PORT'))).toContain('(got "abc")');
  });

  it('reads .env, and the real environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, '.env');
    writeFileSync(file, 'SIP_LOCAL_PORT=5070\nWS_PORT=9000\n# comment\n');
    const r = loadConfig({ envFile: file, env: { WS_PORT: '9100' } });
    expect(r.ok && [r.config.SIP_LOCAL_PORT, r.config.WS_PORT]).toEqual([5070, 9100]);
    const none = loadConfig({ envFile: join(dir, 'missing.env'), env: {} });
    expect(none.ok).toBe(true);
  });

  it('.env.example lists exactly the schema keys, each after a comment line', () => {
    const lines = readFileSync(join(root, '.env.example'), 'utf8').split('\n');
    const keys: string[] = [];
    lines.forEach((line, i) => {
      const m = /^([A-Z0-9_]+)=/.exec(line);
      if (!m) return;
      keys.push(m[1]!);
      expect(lines[i - 1]?.startsWith('#'), `${m[1]} needs a comment above it`).toBe(true);
    });
    expect(keys.sort()).toEqual(Object.keys(configSchema.shape).sort());
    // and the example as written is itself a valid configuration
    const env: Record<string, string> = {};
    for (const line of lines) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
      if (m) env[m[1]!] = m[2]!;
    }
    expect(parseConfig(env).ok).toBe(true);
  });

  it('a bad config stops start-up with exit code 1 and one message listing every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-main-'));
    const run = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/main.ts')], {
      cwd: dir,
      env: { PATH: process.env.PATH, SIP_LOCAL_PORT: 'abc', WS_PORT: '-1', LOG_LEVEL: 'loud' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid configuration (3 problems)');
    for (const key of ['SIP_LOCAL_PORT', 'WS_PORT', 'LOG_LEVEL']) expect(run.stderr).toContain(`  - ${key}:`);
  });

  it('an unwritable SIP_LOG_FILE stops start-up with one line naming it, not a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-log-'));
    const run = spawnSync(join(root, 'node_modules/.bin/tsx'), [join(root, 'src/main.ts')], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        SIP_LOG_FILE: '/etc/hostname/sip.log',
        SIP_LOCAL_PORT: '0',
        WS_PORT: '0',
      },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('Invalid configuration (1 problem');
    expect(run.stderr).toMatch(/ {2}- SIP_LOG_FILE: cannot write \/etc\/hostname\/sip\.log \(/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it("the examples' placeholders: the change-me token is refused, documentation addresses are warned about", () => {
    const token = parseConfig({ WS_TOKEN: 'change-me-to-a-long-random-token' });
    expect(token.ok).toBe(false);
    expect(!token.ok && token.problems).toEqual([
      expect.stringMatching(/^WS_TOKEN: is the example placeholder/),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'env-doc-'));
    const r = loadConfig({
      envFile: join(dir, 'none.env'),
      env: { SIP_SERVER_IP: '192.0.2.20', SIP_ALLOWED_SOURCES: '192.0.2.20,10.0.0.0/8' },
    });
    expect(r.ok && r.warnings).toEqual([
      expect.stringMatching(/^SIP_SERVER_IP: 192\.0\.2\.20 is a documentation address \(RFC 5737/),
      expect.stringMatching(/^SIP_ALLOWED_SOURCES: 192\.0\.2\.20 is a documentation address/),
    ]);
  });

  it('warns about keys that look like settings but are not: a typo, a retired key; names the closest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-'));
    const envFile = join(dir, '.env');
    writeFileSync(envFile, 'SIP_PORT=5070\nWS_URL=ws://x\nSIP_LOCL_IP=127.0.0.1\nFOO=1\n');
    const r = loadConfig({ envFile, env: { RTP_PORTSTART: '1', PATH: '/bin', SIP_VECTORS_DIR: '/v' } });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toEqual([
      `SIP_PORT (${envFile}) is not a setting and does nothing: did you mean SIP_LOCAL_PORT?`,
      `WS_URL (${envFile}) is no longer used: the call center runs inside the relay; remove it`,
      `SIP_LOCL_IP (${envFile}) is not a setting and does nothing: did you mean SIP_LOCAL_IP?`,
      `FOO (${envFile}) is not a setting and does nothing`,
      'RTP_PORTSTART (environment) is not a setting and does nothing: did you mean RTP_PORT_START?',
    ]);
  });

  it('warns when the RTP range cannot serve MAX_CALLS; the default range serves the default MAX_CALLS', () => {
    const small = parseConfig({ RTP_PORT_START: '40000', RTP_PORT_END: '40009' });
    expect(small.ok && small.warnings).toEqual([
      'RTP_PORT_START..RTP_PORT_END (40000-40009) holds 5 port pairs: only 5 of MAX_CALLS=100 calls can have media (a call takes two ports)',
    ]);
    expect(parseConfig({}).ok && (parseConfig({}) as { warnings: string[] }).warnings).toEqual([]);
  });
});
