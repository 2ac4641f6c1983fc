import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/index.ts';
import { readRoutesFile } from '../../../src/config/routes-file.ts';
import type { CallFacts } from '../../../src/routing/plan.ts';
import { type RouteDefaults, RouteTable } from '../../../src/routing/router.ts';
import { routesFileSchema } from '../../../src/routing/routes-schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'routes-unit-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ctx = { openAiKey: true, provider: 'openai' as const, callWebhookUrl: false };

const defaults: RouteDefaults = {
  autoAnswer: false,
  agent: {
    provider: 'openai',
    chatModel: 'gpt-4o-mini',
    realtimeModel: 'gpt-realtime',
    prompt: 'env prompt',
    voice: 'alloy',
    language: 'en',
    greeting: undefined,
    tools: ['end_call'],
    transferTarget: undefined,
  },
};

const facts = (o: Partial<CallFacts> = {}): CallFacts => ({
  callId: 'c1',
  requestUser: '1000',
  toUser: '1000',
  fromUser: '+4930123',
  source: '127.0.0.1',
  headers: [],
  ...o,
});

const table = (file: unknown, options = {}) =>
  new RouteTable(routesFileSchema.parse(file), defaults, options);

describe('routes file: checked whole, every problem named with where it is', () => {
  it('names each problem of a bad file at once', () => {
    const path = write(
      'bad.yaml',
      `
trunks:
  - name: a
    host: 10.0.0.1
    register: true
  - name: a
    host: 10.0.0.2
    transport: sctp
routes:
  - to: "1000"
  - to: "2000"
    agent: {}
    reject: 486
  - to: "3000"
    reject: 200
  - to: "4000"
    trunk: nosuch
    clients: true
  - to: "5000"
    stream: { url: "http://bot" }
  - to: "6000"
    agent: { voice: alloy, temperature: 2 }
`,
    );
    const r = readRoutesFile(path, ctx);
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    const text = problems.join('\n');
    expect(text).toContain('trunks[1].transport');
    expect(text).toContain('routes[0]: needs one action');
    expect(text).toContain('routes[1]: has 2 actions (agent, reject)');
    expect(text).toContain('routes[2].reject');
    expect(text).toContain('routes[4].stream.url: must be a ws:// or wss:// URL');
    expect(text).toContain('routes[5].agent');
    expect(text).toContain('temperature');
    for (const p of problems) expect(p.startsWith(`ROUTES_FILE ${path}: `)).toBe(true);
  });

  it('cross-checks: duplicate trunk names, registering without a user, unknown trunks, missing prompt files, keys', () => {
    const path = write(
      'cross.yaml',
      `
trunks:
  - { name: a, host: 10.0.0.1, register: true }
  - { name: a, host: 10.0.0.2 }
routes:
  - { to: "1", trunk: nosuch, clients: true }
`,
    );
    const r = readRoutesFile(path, ctx);
    expect(r.ok ? [] : r.problems).toEqual([
      expect.stringContaining('trunks[0].username: is required to register'),
      expect.stringContaining('trunks[1].name: a is named twice'),
      expect.stringContaining('routes[0].trunk: no trunk is named nosuch'),
    ]);
    const files = write(
      'files.yaml',
      `
routes:
  - { to: "1", agent: { promptFile: missing.txt } }
  - { to: "2", agent: { provider: openai-realtime } }
  - { to: "3", webhook: {} }
`,
    );
    const f = readRoutesFile(files, { ...ctx, openAiKey: false });
    expect(f.ok ? [] : f.problems).toEqual([
      expect.stringMatching(/routes\[0\]\.agent\.promptFile: cannot read missing\.txt/),
      expect.stringContaining('routes[0].agent: provider openai needs OPENAI_API_KEY'),
      expect.stringContaining('routes[1].agent: provider openai-realtime needs OPENAI_API_KEY'),
      expect.stringContaining('routes[2].webhook.url: is required (or set CALL_WEBHOOK_URL)'),
    ]);
  });

  it('not YAML, and a missing file, are one clear problem each', () => {
    const r = readRoutesFile(write('broken.yaml', 'routes: [to: "1"\n  - x'), ctx);
    expect(r.ok ? [] : r.problems).toEqual([expect.stringContaining('not YAML or JSON')]);
    const m = readRoutesFile(join(dir, 'nope.yaml'), ctx);
    expect(m.ok ? [] : m.problems).toEqual([expect.stringContaining('cannot read')]);
  });

  it('JSON is read as well, and prompt files are read relative to the routes file', () => {
    write('p.txt', '  Be kind.  \n');
    const r = readRoutesFile(
      write('ok.json', JSON.stringify({ routes: [{ to: '1', agent: { promptFile: 'p.txt' } }] })),
      ctx,
    );
    expect(r.ok && r.file.routes[0]?.agent).toEqual({ prompt: 'Be kind.' });
  });

  it('a bad ROUTES_FILE stops start-up together with the environment problems', () => {
    const path = write('env.yaml', 'routes:\n  - to: "1"\n');
    const r = parseConfig({ ROUTES_FILE: path, SIP_LOCAL_PORT: 'x' });
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.problems).toEqual([
      expect.stringContaining('SIP_LOCAL_PORT'),
      expect.stringContaining('routes[0]: needs one action'),
    ]);
  });
});

describe('RouteTable: the first route whose conditions all hold', () => {
  const t = table({
    trunks: [
      { name: 'carrier', host: '192.0.2.10' },
      { name: 'pbx', host: 'pbx.example.com', sources: ['10.1.0.0/16', '127.0.0.1'] },
    ],
    routes: [
      { name: 'vip', from: '+4930*', to: '1000', agent: { prompt: 'vip' } },
      { name: 'sales', to: ['1000', '1001'], agent: { voice: 'verse', provider: 'openai-realtime' } },
      { name: 'pbx-only', to: '2*', trunk: 'pbx', clients: { answer: true } },
      { name: 'lab', source: '10.1.2.0/24', stream: { url: 'ws://bot/x', parameters: { a: 'b' } } },
      { name: 'premium', to: '900*', reject: { status: 603, reason: 'Declined' } },
      { name: 'human', to: '0', transfer: 'sip:desk@pbx.example.com' },
    ],
  });

  it('matches called number (Request-URI or To), caller, trunk and source, in order', () => {
    const vip = t.decide(facts());
    expect(vip).toMatchObject({
      kind: 'plan',
      plan: { route: 'vip', trunk: 'pbx', agent: { prompt: 'vip' } },
    });
    // another caller falls through to the next route; the agent is the environment's with the route's changes
    const sales = t.decide(facts({ fromUser: '+4940' }));
    expect(sales).toEqual({
      kind: 'plan',
      plan: {
        route: 'sales',
        trunk: 'pbx',
        agent: {
          ...defaults.agent,
          chatModel: undefined,
          realtimeModel: undefined,
          provider: 'openai-realtime',
          model: 'gpt-realtime',
          voice: 'verse',
        },
        stream: undefined,
        autoAnswer: true,
        transfer: undefined,
      },
    });
    // the To user counts when the Request-URI's does not match
    expect(t.decide(facts({ requestUser: 'x', toUser: '1001', fromUser: undefined }))).toMatchObject({
      plan: { route: 'sales' },
    });
    expect(t.decide(facts({ toUser: '2555', requestUser: '2555' }))).toMatchObject({
      plan: { route: 'pbx-only', autoAnswer: true, agent: undefined },
    });
    expect(t.decide(facts({ toUser: '7', requestUser: '7', source: '10.1.2.3' }))).toMatchObject({
      plan: { route: 'lab', trunk: 'pbx', stream: { url: 'ws://bot/x', parameters: { a: 'b' } } },
    });
    expect(t.decide(facts({ toUser: '0', requestUser: '0' }))).toMatchObject({
      plan: { route: 'human', transfer: 'sip:desk@pbx.example.com' },
    });
  });

  it('a trunk-limited route does not take calls of another trunk; rejections, no route, unknown sources', () => {
    // from the carrier (its host is its source): pbx-only does not match, nothing else does
    expect(t.decide(facts({ toUser: '2555', requestUser: '2555', source: '192.0.2.10' }))).toMatchObject({
      kind: 'reject',
      status: 404,
    });
    expect(t.decide(facts({ toUser: '9001', requestUser: '9001' }))).toEqual({
      kind: 'reject',
      status: 603,
      reason: 'Declined',
      route: 'premium',
    });
    // a source no trunk lists: 403 before any route is looked at
    expect(t.decide(facts({ source: '198.51.100.7' }))).toMatchObject({ kind: 'reject', status: 403 });
    expect(t.decide(facts({ source: '::1' }))).toMatchObject({ kind: 'reject', status: 403 });
  });

  it('without trunks every source may call; patterns are whole-number matches, * any run', () => {
    const open = table({
      routes: [
        { to: '+44*', clients: true },
        { to: '12', reject: 486 },
      ],
    });
    expect(
      open.decide(facts({ requestUser: '+442071', toUser: undefined, source: '203.0.113.9' })),
    ).toMatchObject({
      kind: 'plan',
      plan: { autoAnswer: false },
    });
    expect(open.decide(facts({ requestUser: '123', toUser: undefined }))).toMatchObject({ status: 404 });
    expect(open.decide(facts({ requestUser: '12', toUser: undefined }))).toMatchObject({ status: 486 });
    // regular-expression characters in a pattern are themselves
    const dots = table({ routes: [{ to: 'a.b', clients: true }] });
    expect(dots.decide(facts({ requestUser: 'axb', toUser: undefined })).kind).toBe('reject');
  });

  it('a webhook route is handed to the webhook client with its settings; CALL_WEBHOOK_URL fills a missing url', () => {
    const w = table(
      { routes: [{ name: 'app', webhook: { timeoutMs: 500, headers: ['X-Account'] } }] },
      { callWebhookUrl: 'http://127.0.0.1:9/hook' },
    );
    expect(w.decide(facts())).toEqual({ kind: 'webhook', route: 'app', trunk: undefined });
    expect(w.webhook('app')).toEqual({
      url: 'http://127.0.0.1:9/hook',
      timeoutMs: 500,
      headers: ['X-Account'],
      fallback: { reject: { status: 480 } },
    });
  });

  it('without a routes file: one default route, CALL_CENTER and MEDIA_STREAM_URL on every call as before', () => {
    const env = RouteTable.fromEnvironment(defaults, {
      callCenter: true,
      streamUrl: 'ws://bot',
      callWebhookUrl: undefined,
    });
    expect(env.decide(facts({ source: '203.0.113.1' }))).toMatchObject({
      kind: 'plan',
      plan: {
        route: 'default',
        autoAnswer: false,
        agent: { prompt: 'env prompt' },
        stream: { url: 'ws://bot' },
      },
    });
    expect(env.outgoingPlan()).toMatchObject({
      agent: { prompt: 'env prompt' },
      stream: { url: 'ws://bot' },
    });
    const plain = RouteTable.fromEnvironment(defaults, {
      callCenter: false,
      streamUrl: undefined,
      callWebhookUrl: undefined,
    });
    expect(plain.decide(facts())).toMatchObject({ plan: { agent: undefined, stream: undefined } });
    const hooked = RouteTable.fromEnvironment(defaults, {
      callCenter: false,
      streamUrl: undefined,
      callWebhookUrl: 'http://127.0.0.1:9/',
    });
    expect(hooked.decide(facts())).toMatchObject({ kind: 'webhook', route: 'default' });
  });

  it('denyPrefixes names the prefix a number starts with', () => {
    const d = table({ routes: [{ clients: true }], denyPrefixes: ['+1900', '00900'] });
    expect(d.denied('+19005551234')).toBe('+1900');
    expect(d.denied('+4930')).toBeUndefined();
  });
});

describe('the example routes file of docs/routing.md', () => {
  it('is valid as written', () => {
    const section = readFileSync(join(import.meta.dirname, '../../../docs/routing.md'), 'utf8');
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(yaml).toBeDefined();
    mkdirSync(join(dir, 'prompts'), { recursive: true });
    writeFileSync(join(dir, 'prompts', 'support.txt'), 'You are support.');
    const r = readRoutesFile(write('readme.yaml', yaml!), ctx);
    expect(r.ok ? [] : r.problems).toEqual([]);
  });
});
