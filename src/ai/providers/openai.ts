import OpenAI, { toFile } from 'openai';
import { Agent } from 'undici';
import type { Logger } from '../../kernel/logger.ts';
import { StreamResampler } from '../../media/stream-resampler.ts';
import { wavHeader } from '../../media/wav.ts';
import { Channel } from '../channel.ts';
import { SentenceSplitter } from '../sentences.ts';
import { type CallTools, chatTools, runTool, type ToolName } from '../tools.ts';
import type { AiConversation, ReplyPart } from './port.ts';
import { withRetry } from './retry.ts';

export interface OpenAiChainOptions {
  readonly sttModel: string;
  /** ISO-639-1 language hint for transcription; undefined lets the model detect it. */
  readonly language: string | undefined;
  readonly chatModel: string;
  readonly systemPrompt: string;
  readonly ttsModel: string;
  readonly voice: string;
  readonly speed: number;
  /** Retries of one request on 429, 5xx, timeouts (never of a stream already delivering). */
  readonly retries: number;
  /** Earlier exchanges kept in the chat request (user + assistant pairs). */
  readonly historyTurns: number;
}

type ToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };
type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** The agent's call-control functions on this call (AI_TOOLS), and the call that carries them out. */
export interface ConversationTools {
  readonly enabled: readonly ToolName[];
  readonly call: CallTools;
}

/** Rounds of function calls in one answer before the model must just speak. */
const MAX_TOOL_ROUNDS = 3;

interface SpokenReply {
  readonly message: Extract<ChatMessage, { role: 'assistant' }>;
  readonly sentences: Array<{ readonly text: string; ms: number }>;
}

/** The sample rate of the speech endpoint's `pcm` format (s16le mono). */
const TTS_RATE = 24000;

/**
 * The chained provider: transcription -> streamed chat completion -> streamed speech, per call. Speech
 * starts on the first finished sentence while the model is still writing the rest; each sentence's 24 kHz
 * PCM is low-pass filtered and decimated to 8 kHz as it arrives. The history of the call's earlier turns
 * rides every chat request; an answer cut short by a barge-in is kept as far as it was spoken.
 */
export class OpenAiConversation implements AiConversation {
  readonly #history: ChatMessage[] = [];

  constructor(
    private readonly client: OpenAI,
    private readonly o: OpenAiChainOptions,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
    private readonly tools?: ConversationTools,
  ) {}

  async *respond(turn: Int16Array, signal: AbortSignal): AsyncIterable<ReplyPart> {
    const text = await this.#transcribe(turn, signal);
    yield { type: 'timing', stage: 'stt.done', at: this.now() };
    if (!text) return; // noise, a cough: nothing to answer
    yield { type: 'transcript', text };
    this.#history.push({ role: 'user', content: text });
    yield* this.#answer(signal);
  }

  async *say(text: string, signal: AbortSignal): AsyncIterable<ReplyPart> {
    yield { type: 'reply.text', text };
    const reply = this.#newReply();
    yield* this.#speak(text, signal, reply);
  }

  /**
   * The caller barged in after hearing `heardMs` of the latest reply: the history keeps the sentences
   * heard, the one cut short up to the proportional word, then "…", so the model knows what the caller
   * missed; a reply not heard at all is dropped.
   */
  interrupted(heardMs: number): void {
    const reply = this.#reply;
    if (!reply) return;
    this.#reply = undefined;
    const kept: string[] = [];
    let at = 0;
    for (const s of reply.sentences) {
      if (at + s.ms <= heardMs) kept.push(s.text);
      else if (at < heardMs && s.ms > 0) {
        const words = s.text.split(/\s+/);
        const n = Math.floor((words.length * (heardMs - at)) / s.ms);
        if (n > 0) kept.push(words.slice(0, n).join(' '));
      }
      at += s.ms;
    }
    const i = this.#history.indexOf(reply.message);
    if (kept.length === 0) {
      if (i >= 0) this.#history.splice(i, 1);
    } else {
      reply.message.content = `${kept.join(' ')} …`;
    }
  }

  close(): void {
    this.#history.length = 0;
  }

  /** The reply being spoken: its history entry and each sentence's audio length, for `interrupted`. */
  #reply: SpokenReply | undefined;

  #newReply(): SpokenReply {
    const reply: SpokenReply = { message: { role: 'assistant', content: '' }, sentences: [] };
    this.#history.push(reply.message);
    this.#reply = reply;
    return reply;
  }

  async #transcribe(turn: Int16Array, signal: AbortSignal): Promise<string> {
    const pcm = new Uint8Array(turn.buffer, turn.byteOffset, turn.byteLength);
    const wav = new Uint8Array(44 + pcm.length);
    wav.set(wavHeader(8000, 1, pcm.length));
    wav.set(pcm, 44);
    const result = await this.#retry('transcription', signal, async () =>
      this.client.audio.transcriptions.create(
        {
          file: await toFile(wav, 'turn.wav', { type: 'audio/wav' }),
          model: this.o.sttModel,
          ...(this.o.language ? { language: this.o.language } : {}),
        },
        { signal },
      ),
    );
    return result.text.trim();
  }

  /**
   * The model's answer, spoken as it is written. With AI_TOOLS it may call functions instead of (or after)
   * speaking: each is run (runTool), its result goes into the history as a `tool` message, and the model is
   * asked again when it has said nothing yet or a call failed, so the caller always hears something.
   */
  async *#answer(signal: AbortSignal): AsyncIterable<ReplyPart> {
    for (let round = 0; round < MAX_TOOL_ROUNDS; round++) {
      const { calls, spoke } = yield* this.#chatRound(signal, round < MAX_TOOL_ROUNDS - 1);
      if (calls.length === 0) return;
      let failed = false;
      for (const c of calls) {
        const outcome = runTool(
          this.tools?.enabled ?? [],
          c.function.name,
          c.function.arguments,
          this.tools!.call,
        );
        failed ||= !outcome.ok;
        this.#history.push({ role: 'tool', tool_call_id: c.id, content: JSON.stringify(outcome.result) });
        yield { type: 'tool', ...outcome };
      }
      if (spoke && !failed) return;
    }
  }

  /** One streamed chat completion: its text spoken sentence by sentence, its function calls returned. */
  async *#chatRound(
    signal: AbortSignal,
    toolsAllowed: boolean,
  ): AsyncGenerator<ReplyPart, { calls: ToolCall[]; spoke: boolean }> {
    const keep = this.o.historyTurns * 2 + 1;
    const recent = this.#history.slice(-keep);
    // a trimmed history must not start with a function's result whose call was cut off
    while (recent[0]?.role === 'tool') recent.shift();
    const messages: ChatMessage[] = [{ role: 'system', content: this.o.systemPrompt }, ...recent];
    const tools = toolsAllowed && this.tools?.enabled.length ? chatTools(this.tools.enabled) : undefined;
    const stream = await this.#retry('chat', signal, () =>
      this.client.chat.completions.create(
        { model: this.o.chatModel, messages: messages as never, stream: true, ...(tools ? { tools } : {}) },
        { signal },
      ),
    );
    // the model writes into a channel of sentences; speech reads them in order, concurrently
    const channel = new Channel<ReplyPart | { type: 'sentence'; text: string }>();
    const splitter = new SentenceSplitter();
    const calls: ToolCall[] = [];
    void (async () => {
      let first = true;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta;
        // function calls arrive in pieces: by index, the id and name first, the arguments in parts
        for (const t of delta?.tool_calls ?? []) {
          const c = calls[t.index] ?? { id: '', type: 'function', function: { name: '', arguments: '' } };
          calls[t.index] = c;
          if (t.id) c.id = t.id;
          if (t.function?.name) c.function.name += t.function.name;
          if (t.function?.arguments) c.function.arguments += t.function.arguments;
        }
        const text = delta?.content;
        if (!text) continue;
        if (first) {
          first = false;
          channel.push({ type: 'timing', stage: 'llm.first', at: this.now() });
        }
        for (const s of splitter.push(text)) channel.push({ type: 'sentence', text: s });
      }
      for (const s of splitter.flush()) channel.push({ type: 'sentence', text: s });
      channel.push({ type: 'timing', stage: 'llm.done', at: this.now() });
      channel.end();
    })().catch((err: unknown) => channel.fail(err));

    const reply = this.#newReply();
    let complete = false;
    try {
      for await (const item of channel) {
        if (item.type !== 'sentence') yield item;
        else yield* this.#speak(item.text, signal, reply);
      }
      complete = true;
      const made = calls.filter((c) => c.function.name);
      if (made.length > 0) reply.message.tool_calls = made;
      else if (reply.sentences.length === 0) this.#history.splice(this.#history.indexOf(reply.message), 1);
      if (reply.sentences.length > 0) yield { type: 'reply.text', text: reply.message.content };
      return { calls: made, spoke: reply.sentences.length > 0 };
    } finally {
      // stopped before the end (barge-in, failure): the history says the answer was cut
      if (!complete && this.#reply === reply) {
        if (reply.sentences.length === 0) this.#history.splice(this.#history.indexOf(reply.message), 1);
        else reply.message.content += ' …';
        this.#reply = undefined;
      }
    }
  }

  /** Speaks one sentence (or a fixed text) and records it, with its audio length, in `reply`. */
  async *#speak(text: string, signal: AbortSignal, reply: SpokenReply): AsyncIterable<ReplyPart> {
    const sentence = { text, ms: 0 };
    reply.sentences.push(sentence);
    reply.message.content = reply.sentences.map((s) => s.text).join(' ');
    const res = await this.#retry('speech', signal, () =>
      this.client.audio.speech.create(
        {
          model: this.o.ttsModel,
          voice: this.o.voice,
          input: text,
          response_format: 'pcm',
          speed: this.o.speed,
        },
        { signal },
      ),
    );
    if (!res.body) throw new Error('speech: empty response');
    const resampler = new StreamResampler(TTS_RATE, 8000);
    let first = true;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const samples = resampler.pushBytes(chunk);
      if (samples.length === 0) continue;
      if (first) {
        first = false;
        yield { type: 'timing', stage: 'tts.first', at: this.now() };
      }
      sentence.ms += samples.length / 8;
      yield { type: 'audio', samples };
    }
    const tail = resampler.flush();
    sentence.ms += tail.length / 8;
    if (tail.length > 0) yield { type: 'audio', samples: tail };
  }

  #retry<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      retries: this.o.retries,
      baseDelayMs: 200,
      signal,
      onRetry: (r) => this.log.warn({ request: what, ...r }, 'AI request failed, retrying'),
    });
  }
}

/**
 * How long an idle connection to the provider is kept for the next request. Node's fetch keeps one 4 s
 * when the server sends no Keep-Alive hint, so a caller who talks for longer than that made every turn open
 * a new connection (TCP and TLS handshakes before the transcription could start). 20 s covers most pauses
 * between turns and stays below the idle timeouts of the providers' front ends (30 s and up), so a request
 * is not sent on a connection the server is closing (`KEEP_ALIVE_MAX_MS` caps a longer hint likewise).
 */
export const KEEP_ALIVE_MS = 20_000;
const KEEP_ALIVE_MAX_MS = 25_000;

/**
 * The SDK client for a call center: our own retries (logged), so the SDK's are off; Node's fetch with a
 * connection pool that keeps idle connections between turns. The pool is an undici 6 Agent, the major
 * version Node 20 and 22 bundle behind their fetch (undici's own fetch cannot upload Node's FormData,
 * which the transcription request sends).
 */
export function openAiClient(apiKey: string, baseURL: string | undefined, timeoutMs: number): OpenAI {
  const dispatcher = new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, keepAliveMaxTimeout: KEEP_ALIVE_MAX_MS });
  return new OpenAI({
    apiKey,
    ...(baseURL ? { baseURL } : {}),
    maxRetries: 0,
    timeout: timeoutMs,
    fetchOptions: { dispatcher },
  });
}
