import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import type { Relay } from '../../src/relay.ts';
import { openAiEnv } from '../helpers/ai-env.ts';
import { concatSamples, speechLike } from '../helpers/audio.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../helpers/fake-openai.ts';
import { freeUdpPort, hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, type SippRun } from '../helpers/sipp.ts';
import { wsClient } from '../helpers/ws-client.ts';

type Event = Record<string, unknown> & { type: string };

/** The final status sipp got for its INVITE (uac-refused.xml), read from its message trace. */
const refusedWith = (r: SippRun) => r.messages().match(/SIP\/2\.0 ([4-6]\d\d) /)?.[1];

/**
 * ROUTES_FILE on a live relay: sipp callers dial numbers, each number's route decides (an agent with its own
 * prompt and voice, a rejection, no route at all), and trunks' sources decide who may call.
 */
describe.skipIf(!hasBinary('sipp'))(
  'routes file: numbers to agents, rejections, trunk sources (sipp)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'routes-'));
    const voice = join(dir, 'voice.ulaw');
    writeFileSync(voice, encodeG711('PCMU', speechLike(8000, 1.5, 21)));
    // a turn, then a second of silence: looped, the caller takes a turn every 2.5 s
    const turns = join(dir, 'turns.ulaw');
    writeFileSync(turns, encodeG711('PCMU', concatSamples(speechLike(8000, 1.5, 22), new Int16Array(8000))));

    async function start(
      routes: string,
      files: Record<string, string> = {},
      env: Record<string, string> = {},
    ) {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
      const path = join(dir, `routes-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(path, routes);
      const fake = await startFakeOpenAi({ transcribe: () => 'Hello?', reply: () => 'Hello there.' });
      const relay = await startTestRelay({
        ROUTES_FILE: path,
        ...env,
        ...openAiEnv(fake),
        AI_VAD: 'energy',
        RTP_PORT_START: '49200',
        RTP_PORT_END: '49299',
        METRICS_PORT: String(await freeUdpPort()),
      });
      const { ws: monitor, got: events } = await wsClient<Event>(
        `ws://127.0.0.1:${relay.ws.port}/v1`,
        JSON.parse,
      );
      return { relay, fake, events, monitor, path };
    }

    /** One call to `number` that talks once; hung up by the relay once the agent's chat request came. */
    async function talk(relay: Relay, fake: FakeOpenAi, events: Event[], number: string) {
      const chats = () => fake.requests.filter((r) => r.path === '/v1/chat/completions');
      const before = chats().length;
      const caller = relayCaller('uac-wait-bye.xml', relay.sip.port, voice, { service: number, loops: 1 });
      await until(() => chats().length > before, 15_000);
      const incoming = events.filter((e) => e.type === 'call.incoming').at(-1)!;
      relay.calls.hangup(String(incoming.callId));
      const r = await caller;
      expect(r.code, r.stdout.slice(-1500)).toBe(0);
      const body = chats().at(-1)!.body as { messages: Array<{ role: string; content: string }> };
      return { incoming, system: body.messages[0] };
    }

    it('two numbers, two agents: each call reaches the model with its own prompt (voice, model, language); other numbers are refused', async () => {
      const t = await start(
        `
trunks:
  - name: pbx
    host: 127.0.0.1
routes:
  - name: sales
    to: "1000"
    agent:
      prompt: You sell tickets. Be brief.
  - name: support
    to: ["2000", "2001"]
    trunk: pbx
    agent:
      promptFile: support-prompt.txt
      voice: verse
      model: support-model-1
      language: de
  - name: premium
    to: "900*"
    reject: 603
`,
        { 'support-prompt.txt': 'You are technical support.\n' },
        { CDR_FILE: join(dir, 'cdr.jsonl') },
      );
      try {
        const sales = await talk(t.relay, t.fake, t.events, '1000');
        expect(sales.system).toEqual({ role: 'system', content: 'You sell tickets. Be brief.' });
        expect(sales.incoming).toMatchObject({ route: 'sales', trunk: 'pbx' });
        const support = await talk(t.relay, t.fake, t.events, '2001');
        expect(support.system).toEqual({ role: 'system', content: 'You are technical support.' });
        expect(support.incoming).toMatchObject({ route: 'support', trunk: 'pbx' });
        // the voice is the route's for its call, the environment's (alloy) for the other
        const voices = t.fake.requests.filter((r) => r.path === '/v1/audio/speech').map((r) => r.body);
        expect(voices).toContainEqual(expect.objectContaining({ voice: 'alloy' }));
        expect(voices).toContainEqual(expect.objectContaining({ voice: 'verse' }));
        // and so are its chat model and its transcription language (the other call: AI_CHAT_MODEL, AI_LANGUAGE)
        const chats = t.fake.requests.filter((r) => r.path === '/v1/chat/completions');
        const supportChat = chats.find((r) => JSON.stringify(r.body).includes('technical support'));
        const salesChat = chats.find((r) => JSON.stringify(r.body).includes('sell tickets'));
        expect(supportChat?.body).toMatchObject({ model: 'support-model-1' });
        expect(salesChat?.body).toMatchObject({ model: 'gpt-4o-mini' });
        const heard = t.fake.requests.filter((r) => r.path === '/v1/audio/transcriptions').map((r) => r.body);
        expect(heard).toContainEqual(expect.objectContaining({ language: 'de' }));
        expect(heard).toContainEqual(expect.objectContaining({ language: 'zh' }));

        const none = await relayCaller('uac-refused.xml', t.relay.sip.port, undefined, { service: '3000' });
        expect(none.code, none.stdout.slice(-1500)).toBe(0);
        expect(refusedWith(none)).toBe('404');
        const premium = await relayCaller('uac-refused.xml', t.relay.sip.port, undefined, {
          service: '9001',
        });
        expect(premium.code, premium.stdout.slice(-1500)).toBe(0);
        expect(refusedWith(premium)).toBe('603');
        // neither became a call
        expect(t.events.filter((e) => e.type === 'call.incoming')).toHaveLength(2);
        // each has a CDR line all the same: refused, with its status and the route that refused it
        const cdr = () =>
          readFileSync(join(dir, 'cdr.jsonl'), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as Record<string, unknown>);
        await until(() => cdr().length === 4, 3000);
        expect(cdr().filter((r) => r.endReason === 'refused')).toEqual([
          expect.objectContaining({ to: '3000', from: 'sipp', status: 404, answer: null, talkS: 0 }),
          expect.objectContaining({ to: '9001', status: 603, route: 'premium' }),
        ]);
        expect(
          cdr()
            .filter((r) => r.endReason !== 'refused')
            .map((r) => r.route),
        ).toEqual(['sales', 'support']);
      } finally {
        t.monitor.close();
        await t.relay.close();
        await t.fake.close();
      }
    }, 60_000);

    it("a caller from outside every trunk's sources gets 403, and no call is made of it", async () => {
      const t = await start(`
trunks:
  - name: carrier
    host: sip.carrier.test
    sources: [127.0.0.2/32, 192.0.2.0/24]
routes:
  - to: "*"
    agent: {}
`);
      try {
        const r = await relayCaller('uac-refused.xml', t.relay.sip.port, undefined, { service: '1000' });
        expect(r.code, r.stdout.slice(-1500)).toBe(0);
        expect(refusedWith(r)).toBe('403');
        expect(t.events.filter((e) => e.type === 'call.incoming')).toHaveLength(0);
      } finally {
        t.monitor.close();
        await t.relay.close();
        await t.fake.close();
      }
    }, 30_000);

    it('reloaded while a call is up (file change, then SIGUSR2): the live call keeps its agent, new calls follow the new rules, a bad file changes nothing', async () => {
      const t = await start(`
routes:
  - name: first
    to: "1000"
    agent: { prompt: First rules. }
`);
      const chats = () => t.fake.requests.filter((r) => r.path === '/v1/chat/completions');
      try {
        // a caller that keeps talking (its audio looped) stays on through the reloads
        const live = relayCaller('uac-wait-bye.xml', t.relay.sip.port, turns, {
          service: '1000',
          timeoutMs: 40_000,
        });
        await until(() => chats().length > 0, 15_000);
        const liveId = String(t.events.find((e) => e.type === 'call.incoming')!.callId);

        writeFileSync(t.path, 'routes:\n  - { name: second, to: "1000", reject: 486 }\n');
        await until(() => t.relay.router.reloads.ok === 1, 5000);
        const refused = await relayCaller('uac-refused.xml', t.relay.sip.port, undefined, {
          service: '1000',
        });
        expect(refusedWith(refused)).toBe('486');

        // a broken file: logged, the rules of the moment stay
        writeFileSync(t.path, 'routes:\n  - { to: "1000" }\n');
        await until(() => t.relay.router.reloads.failed === 1, 5000);
        expect(
          refusedWith(await relayCaller('uac-refused.xml', t.relay.sip.port, undefined, { service: '1000' })),
        ).toBe('486');

        // SIGUSR2 reads the file again too (where file events do not come: some network file systems)
        writeFileSync(t.path, 'routes:\n  - { name: third, to: "1000", agent: { prompt: Third rules. } }\n');
        await until(() => t.relay.router.reloads.ok === 2, 5000);
        process.kill(process.pid, 'SIGUSR2');
        await until(() => t.relay.router.reloads.ok === 3, 5000);
        const metrics = await (await fetch(`http://127.0.0.1:${t.relay.metrics!.port}/metrics`)).text();
        expect(metrics).toMatch(/routes_reloads_total\{result="ok"\} 3/);
        expect(metrics).toMatch(/routes_reloads_total\{result="refused"\} 1/);

        // the first call is still up, its agent still answering with the first prompt
        const before = chats().length;
        await until(() => chats().length > before, 15_000);
        const last = chats().at(-1)!.body as { messages: Array<{ content: string }> };
        expect(last.messages[0]?.content).toBe('First rules.');
        expect(t.relay.calls.hangup(liveId)).toBe(true);
        const r = await live;
        expect(r.code, r.stdout.slice(-1500)).toBe(0);
      } finally {
        t.monitor.close();
        await t.relay.close();
        await t.fake.close();
      }
    }, 60_000);
  },
);
