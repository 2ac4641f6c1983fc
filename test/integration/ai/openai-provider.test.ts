import { afterEach, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_MS, OpenAiConversation, openAiClient } from '../../../src/ai/providers/openai.ts';
import type { ReplyPart } from '../../../src/ai/providers/port.ts';
import type { Logger } from '../../../src/kernel/logger.ts';
import { speechLike } from '../../helpers/audio.ts';
import { type FakeOpenAi, type FakeOpenAiOptions, startFakeOpenAi } from '../../helpers/fake-openai.ts';

const OPTIONS = {
  sttModel: 'whisper-1',
  language: 'zh',
  chatModel: 'gpt-4o-mini',
  systemPrompt: 'You answer phone calls briefly.',
  ttsModel: 'gpt-4o-mini-tts',
  voice: 'alloy',
  speed: 1,
  retries: 2,
  historyTurns: 10,
};

function recordingLogger(): Logger & { warnings: Array<Record<string, unknown>> } {
  const warnings: Array<Record<string, unknown>> = [];
  const log = {
    warnings,
    debug() {},
    info() {},
    warn(o: object) {
      warnings.push(o as Record<string, unknown>);
    },
    error() {},
    child: () => log,
  };
  return log;
}

let fake: FakeOpenAi | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(opts: FakeOpenAiOptions = {}) {
  fake = await startFakeOpenAi(opts);
  const log = recordingLogger();
  const conv = new OpenAiConversation(openAiClient('test-key', fake.baseURL, 5000), OPTIONS, log);
  return { fake, conv, log };
}

async function collect(it: AsyncIterable<ReplyPart>, onPart?: (p: ReplyPart) => void) {
  const parts: ReplyPart[] = [];
  for await (const p of it) {
    parts.push(p);
    onPart?.(p);
  }
  return parts;
}

const turn = speechLike(8000, 1.2, 7);
const chats = (f: FakeOpenAi) => f.requests.filter((r) => r.path === '/v1/chat/completions');

describe('openai chained provider (STT -> streamed chat -> streamed TTS) against a local server', () => {
  it('transcribes the turn as an 8 kHz WAV, answers, and streams 8 kHz audio of the answer', async () => {
    const { fake, conv } = await setup({
      transcribe: () => '你好，我想问一下营业时间',
      reply: () => 'We open at nine. We close at six.',
    });
    const parts = await collect(conv.respond(turn, new AbortController().signal));
    const stt = fake.requests.find((r) => r.path === '/v1/audio/transcriptions')!;
    expect(stt.body).toEqual({ model: 'whisper-1', language: 'zh', bytes: 44 + turn.length * 2 });
    expect(parts.find((p) => p.type === 'transcript')).toEqual({
      type: 'transcript',
      text: '你好，我想问一下营业时间',
    });
    expect(parts.find((p) => p.type === 'reply.text')).toEqual({
      type: 'reply.text',
      text: 'We open at nine. We close at six.',
    });
    // one speech request per sentence, in order, pcm at the configured voice
    const tts = fake.requests.filter((r) => r.path === '/v1/audio/speech').map((r) => r.body);
    expect(tts).toMatchObject([
      { model: 'gpt-4o-mini-tts', voice: 'alloy', input: 'We open at nine.', response_format: 'pcm' },
      { input: 'We close at six.' },
    ]);
    // the fake makes 60 ms per character at 24 kHz: the 8 kHz output is a third as many samples
    const samples = parts.reduce((n, p) => n + (p.type === 'audio' ? p.samples.length : 0), 0);
    const expected = (0.06 * 'We open at nine.'.length + 0.06 * 'We close at six.'.length) * 8000;
    expect(Math.abs(samples - expected)).toBeLessThan(8);
    const chat = chats(fake)[0]!.body as { model: string; stream: boolean; messages: unknown[] };
    expect(chat).toMatchObject({ model: 'gpt-4o-mini', stream: true });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'You answer phone calls briefly.' },
      { role: 'user', content: '你好，我想问一下营业时间' },
    ]);
  });

  it('carries the history of earlier turns in every chat request', async () => {
    let n = 0;
    const { fake, conv } = await setup({
      transcribe: () => `question ${++n}`,
      reply: (m) => `answer ${m.filter((x) => x.role === 'user').length}.`,
    });
    await collect(conv.say('Welcome to the shop.', new AbortController().signal));
    await collect(conv.respond(turn, new AbortController().signal));
    await collect(conv.respond(turn, new AbortController().signal));
    expect((chats(fake)[1]!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'system', content: OPTIONS.systemPrompt },
      { role: 'assistant', content: 'Welcome to the shop.' },
      { role: 'user', content: 'question 1' },
      { role: 'assistant', content: 'answer 1.' },
      { role: 'user', content: 'question 2' },
    ]);
  });

  it('keeps its connections to the provider through a pause between turns longer than 4 s', async () => {
    // a server that sends no Keep-Alive hint (as many front ends do): Node's fetch alone drops an idle
    // connection after 4 s, so every turn after a longer pause paid a new TCP (and TLS) handshake
    const { fake, conv } = await setup({ idleTimeoutMs: 0 });
    await collect(conv.respond(turn, new AbortController().signal));
    const opened = fake.connections;
    const requests = fake.requests.length; // STT, chat, TTS per sentence
    expect(opened).toBeGreaterThan(0);
    expect(KEEP_ALIVE_MS).toBeGreaterThan(5500);
    await new Promise((r) => setTimeout(r, 5500));
    await collect(conv.respond(turn, new AbortController().signal));
    expect(fake.requests.length).toBe(2 * requests);
    expect(fake.connections).toBe(opened);
  });

  it('speaks the first sentence while the model is still writing the rest', async () => {
    const { conv } = await setup({
      reply: () => 'Sure. Let me look that up for you right now, it takes a moment. Done.',
      delayMs: { chatFirst: 50, chatChunk: 80 },
    });
    const at: Record<string, number> = {};
    await collect(conv.respond(turn, new AbortController().signal), (p) => {
      if (p.type === 'timing') at[p.stage] ??= p.at;
    });
    expect(at['tts.first']).toBeDefined();
    expect(at['tts.first']!).toBeLessThan(at['llm.done']!);
    expect(at['llm.first']!).toBeLessThan(at['tts.first']!);
  });

  it('retries a 429 and a 503 (logged) and still answers; a 401 fails at once', async () => {
    const { fake, conv, log } = await setup({ reply: () => 'Fine.' });
    fake.failNext(429, 1, '/v1/chat/completions');
    fake.failNext(503, 1, '/v1/audio/speech');
    const parts = await collect(conv.respond(turn, new AbortController().signal));
    expect(parts.some((p) => p.type === 'audio')).toBe(true);
    expect(log.warnings.map((w) => [w.request, w.status])).toEqual([
      ['chat', 429],
      ['speech', 503],
    ]);
    fake.failNext(401, 1, '/v1/audio/transcriptions');
    const before = fake.requests.length;
    await expect(collect(conv.respond(turn, new AbortController().signal))).rejects.toMatchObject({
      status: 401,
    });
    expect(fake.requests.length - before).toBe(1);
  });

  it('a barge-in aborts the streams; the history keeps what was spoken, marked as cut', async () => {
    let n = 0;
    const { fake, conv } = await setup({
      transcribe: () => `q${++n}`,
      reply: (m) => (m.length <= 2 ? 'One two three. Four five six. Seven eight nine.' : 'Second answer.'),
      delayMs: { chatChunk: 150 },
    });
    const abort = new AbortController();
    const parts: ReplyPart[] = [];
    await expect(
      collect(conv.respond(turn, abort.signal), (p) => {
        parts.push(p);
        if (p.type === 'audio') abort.abort();
      }),
    ).rejects.toThrow();
    expect(parts.some((p) => p.type === 'reply.text')).toBe(false);
    await collect(conv.respond(turn, new AbortController().signal));
    expect((chats(fake)[1]!.body as { messages: unknown[] }).messages).toEqual([
      { role: 'system', content: OPTIONS.systemPrompt },
      { role: 'user', content: 'q1' },
      { role: 'assistant', content: 'One two three. …' },
      { role: 'user', content: 'q2' },
    ]);
  });

  it('an empty transcript (noise) asks nothing of the model', async () => {
    const { fake, conv } = await setup({ transcribe: () => '  ' });
    const parts = await collect(conv.respond(turn, new AbortController().signal));
    expect(parts.map((p) => p.type)).toEqual(['timing']);
    expect(chats(fake)).toHaveLength(0);
  });
});
