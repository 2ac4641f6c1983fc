import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeG711 } from '../../src/media/g711.ts';
import type { Relay } from '../../src/relay.ts';
import { callCenterEnv } from '../helpers/ai-env.ts';
import { speechLike } from '../helpers/audio.ts';
import { type ChatTurn, type FakeOpenAi, startFakeOpenAi } from '../helpers/fake-openai.ts';
import { startFakeRealtime } from '../helpers/fake-realtime.ts';
import { hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller } from '../helpers/sipp.ts';

type Event = Record<string, unknown> & { type: string; at: number };

/**
 * The agent's functions on a live call: a sipp caller speaks one turn (its audio once, then silence), the
 * local OpenAI-compatible server answers it with a spoken sentence and a function call, and the relay does
 * what the function says once the sentence has been played.
 */
describe.skipIf(!hasBinary('sipp'))(
  'AI tools (transfer_call, end_call) with sipp and a local OpenAI-compatible server',
  () => {
    async function start(
      toolCalls: (
        m: ChatTurn[],
      ) => { content?: string; calls: Array<{ name: string; arguments: string }> } | undefined,
      env: Record<string, string> = {},
    ): Promise<{ relay: Relay; fake: FakeOpenAi; events: Event[]; monitor: WebSocket; voice: string }> {
      const fake = await startFakeOpenAi({
        transcribe: () => 'Can I talk to a person, please?',
        toolCalls: (m) => toolCalls(m),
        reply: () => 'Sorry, I cannot do that.',
      });
      const relay = await startTestRelay({
        ...callCenterEnv(fake),
        AI_VAD: 'energy',
        RTP_PORT_START: '49000',
        RTP_PORT_END: '49099',
        ...env,
      });
      const monitor = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/v1`);
      const events: Event[] = [];
      monitor.on('message', (d) => events.push({ ...JSON.parse(String(d)), at: performance.now() }));
      await new Promise((r) => monitor.on('open', r));
      const dir = mkdtempSync(join(tmpdir(), 'ai-tools-'));
      writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 1.5, 17)));
      return { relay, fake, events, monitor, voice: join(dir, 'voice.ulaw') };
    }

    const caller = async (scenario: string, port: number, voice: string, keys: string[] = []) =>
      relayCaller(scenario, port, voice, { keys: keys, loops: 1, timeoutMs: 40_000 });

    it('transfer_call: the model says it is connecting, the REFER goes out after that was played, the call ends transferred', async () => {
      const t = await start(
        (m) =>
          m.at(-1)?.role === 'user'
            ? {
                content: 'Connecting you to a colleague now.',
                calls: [{ name: 'transfer_call', arguments: '{}' }],
              }
            : undefined,
        {
          AI_TRANSFER_TARGET: '1002',
        },
      );
      try {
        const run = await caller('uac-refer.xml', t.relay.sip.port, t.voice, ['-key', 'frag', '200 OK']);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        // the chat request offered the three functions
        const chat = t.fake.requests.find((r) => r.path === '/v1/chat/completions')!.body as {
          tools: Array<{ function: { name: string; description: string } }>;
        };
        expect(chat.tools.map((x) => x.function.name)).toEqual(['transfer_call', 'end_call', 'send_dtmf']);
        expect(chat.tools[0]!.function.description).toMatch(/asks for a person/);
        const tool = t.events.find((e) => e.type === 'ai.tool')!;
        expect(tool).toMatchObject({
          name: 'transfer_call',
          ok: true,
          result: { target: 'sip:1002@127.0.0.1:5060' },
        });
        const accepted = t.events.find((e) => e.type === 'call.transfer' && e.status === 'accepted')!;
        // "Connecting you to a colleague now." is ~2 s of speech (60 ms a character): the REFER waited for it
        expect(accepted.at - tool.at).toBeGreaterThan(1500);
        expect(run.messages()).toMatch(/Refer-To: <sip:1002@127\.0\.0\.1:5060>/);
        expect(t.events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'transferred' });
      } finally {
        t.monitor.close();
        await t.relay.close();
        await t.fake.close();
      }
    });

    it('a target outside the allow list is refused to the model; end_call hangs up after the goodbye was played', async () => {
      const t = await start((m) => {
        const last = m.at(-1)!;
        if (last.role === 'user')
          return { calls: [{ name: 'transfer_call', arguments: '{"target":"sip:0900123@10.1.2.3"}' }] };
        if (last.role === 'tool' && String(last.content).includes('error'))
          return {
            content: 'Sorry, I cannot connect you there. Goodbye.',
            calls: [{ name: 'end_call', arguments: '{}' }],
          };
        return undefined;
      });
      try {
        // uac-wait-bye: a REFER would fail the scenario; it must see only our BYE
        const run = await caller('uac-wait-bye.xml', t.relay.sip.port, t.voice);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const tools = t.events.filter((e) => e.type === 'ai.tool');
        expect(tools.map((e) => [e.name, e.ok])).toEqual([
          ['transfer_call', false],
          ['end_call', true],
        ]);
        expect((tools[0]!.result as { error: string }).error).toMatch(/not in TRANSFER_ALLOWED_TARGETS/);
        // the model was asked again with its call and the refusal in the history
        const chats = t.fake.requests.filter((r) => r.path === '/v1/chat/completions');
        const second = (chats[1]!.body as { messages: ChatTurn[] }).messages;
        expect(second.map((x) => x.role)).toEqual(['system', 'user', 'assistant', 'tool']);
        expect(second[2]!.tool_calls![0]!.function.name).toBe('transfer_call');
        // the goodbye (~2.6 s of speech) was played before the BYE
        const ended = t.events.find((e) => e.type === 'call.ended')!;
        expect(ended).toMatchObject({ reason: 'local-hangup' });
        expect(ended.at - tools[1]!.at).toBeGreaterThan(2000);
        expect(t.events.some((e) => e.type === 'call.transfer')).toBe(false);
      } finally {
        t.monitor.close();
        await t.relay.close();
        await t.fake.close();
      }
    });

    it('openai-realtime: the session offers the functions; a function call gets its output item, then the REFER after the reply was played', async () => {
      const fake = await startFakeRealtime({
        transcript: () => 'I want to speak to a person',
        reply: (n) => (n === 1 ? 'Connecting you to a colleague now.' : 'Still here.'),
        functionCall: (n) => (n === 1 ? { name: 'transfer_call', arguments: '{}' } : undefined),
      });
      const relay = await startTestRelay(
        {
          ...callCenterEnv(fake, 'openai-realtime'),
          AI_TRANSFER_TARGET: 'sip:1002@127.0.0.1',
          RTP_PORT_START: '49000',
          RTP_PORT_END: '49099',
        },
        { ai: { realtimeCa: fake.ca } },
      );
      const monitor = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/v1`);
      const events: Event[] = [];
      monitor.on('message', (d) => events.push({ ...JSON.parse(String(d)), at: performance.now() }));
      await new Promise((r) => monitor.on('open', r));
      const dir = mkdtempSync(join(tmpdir(), 'ai-tools-'));
      writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 1.5, 19)));
      try {
        const run = await caller('uac-refer.xml', relay.sip.port, join(dir, 'voice.ulaw'), [
          '-key',
          'frag',
          '200 OK',
        ]);
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const sent = fake.connections[0]!.events;
        const update = sent.find((e) => e.type === 'session.update') as unknown as {
          session: { tools: Array<{ name: string }>; tool_choice: string };
        };
        expect(update.session.tools.map((x) => x.name)).toEqual(['transfer_call', 'end_call', 'send_dtmf']);
        expect(update.session.tool_choice).toBe('auto');
        const output = sent.find(
          (e) =>
            e.type === 'conversation.item.create' &&
            (e.item as { type: string }).type === 'function_call_output',
        ) as unknown as { item: { call_id: string; output: string } };
        expect(output.item.call_id).toBe('call_1');
        expect(JSON.parse(output.item.output)).toMatchObject({ target: 'sip:1002@127.0.0.1' });
        // it spoke before calling: no second response was asked for
        expect(sent.filter((e) => e.type === 'response.create')).toHaveLength(0);
        const tool = events.find((e) => e.type === 'ai.tool')!;
        expect(tool).toMatchObject({ name: 'transfer_call', ok: true });
        const accepted = events.find((e) => e.type === 'call.transfer' && e.status === 'accepted')!;
        expect(accepted.at - tool.at).toBeGreaterThan(1000); // ~2 s reply, sent faster than real time
        expect(run.messages()).toMatch(/Refer-To: <sip:1002@127\.0\.0\.1>/);
        expect(events.find((e) => e.type === 'call.ended')).toMatchObject({ reason: 'transferred' });
      } finally {
        monitor.close();
        await relay.close();
        await fake.close();
      }
    });

    it('openai-realtime: end_call hangs up once the goodbye was played', async () => {
      const fake = await startFakeRealtime({
        transcript: () => 'That is all, thank you',
        reply: (n) => (n === 1 ? 'You are welcome, goodbye.' : 'Still here.'),
        functionCall: (n) => (n === 1 ? { name: 'end_call', arguments: '{}' } : undefined),
      });
      const relay = await startTestRelay(
        {
          ...callCenterEnv(fake, 'openai-realtime'),
          RTP_PORT_START: '49000',
          RTP_PORT_END: '49099',
        },
        { ai: { realtimeCa: fake.ca } },
      );
      const monitor = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/v1`);
      const events: Event[] = [];
      monitor.on('message', (d) => events.push({ ...JSON.parse(String(d)), at: performance.now() }));
      await new Promise((r) => monitor.on('open', r));
      const dir = mkdtempSync(join(tmpdir(), 'ai-tools-'));
      writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 1.5, 23)));
      try {
        // uac-wait-bye: the caller talks once and waits for our BYE
        const run = await caller('uac-wait-bye.xml', relay.sip.port, join(dir, 'voice.ulaw'));
        expect(run.code, run.stdout + run.stderr).toBe(0);
        const tool = events.find((e) => e.type === 'ai.tool')!;
        expect(tool).toMatchObject({ name: 'end_call', ok: true });
        const ended = events.find((e) => e.type === 'call.ended')!;
        expect(ended).toMatchObject({ reason: 'local-hangup' });
        // "You are welcome, goodbye." is ~1.5 s of speech, sent faster than real time: the BYE waited for it
        expect(ended.at - tool.at).toBeGreaterThan(1000);
      } finally {
        monitor.close();
        await relay.close();
        await fake.close();
      }
    });
  },
);
