import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { speechLike, wavFile } from '../../helpers/audio.ts';
import { type FakeOpenAi, startFakeOpenAi } from '../../helpers/fake-openai.ts';

// The local server every AI test runs against: checked here with the real openai SDK, so a fault in the
// fake is not mistaken for one in the provider.
describe('local OpenAI-compatible server (test helper) with the openai SDK', () => {
  let fake: FakeOpenAi;
  let client: OpenAI;
  beforeAll(async () => {
    fake = await startFakeOpenAi({ transcribe: (audio) => `question of ${audio.length} bytes` });
    client = new OpenAI({ apiKey: 'test-key', baseURL: fake.baseURL, maxRetries: 0 });
  });
  afterAll(() => fake.close());

  it('transcribes a multipart WAV upload', async () => {
    const wav = wavFile(speechLike(8000, 1, 1), 8000);
    const r = await client.audio.transcriptions.create({
      file: await toFile(wav, 'turn.wav', { type: 'audio/wav' }),
      model: 'whisper-1',
      language: 'zh',
    });
    expect(r.text).toBe(`question of ${wav.length} bytes`);
    expect(fake.requests.at(-1)?.body).toEqual({ model: 'whisper-1', language: 'zh', bytes: wav.length });
  });

  it('streams a chat completion as SSE chunks', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'hello there' }],
    });
    const parts: string[] = [];
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta.content ?? '');
    expect(parts.filter(Boolean).length).toBeGreaterThan(1);
    expect(parts.join('')).toBe('You said: hello there. Anything else?');
  });

  it('returns 24 kHz s16le PCM for speech', async () => {
    const res = await client.audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'alloy',
      input: 'Hi!',
      response_format: 'pcm',
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(bytes.length % 2).toBe(0);
    expect(bytes.length / 2 / 24000).toBeCloseTo(0.2, 2);
  });

  it('fails on request with the status the SDK maps to its error classes', async () => {
    fake.failNext(429, 1, '/v1/chat/completions');
    await expect(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
    const ok = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.choices[0]?.message.content).toContain('You said: x');
  });
});
