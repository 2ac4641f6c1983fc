import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { speechLike } from './audio.ts';

/**
 * A local OpenAI-compatible HTTP server for tests: the three endpoints the chained provider uses, with
 * delays and failures to order. It speaks the real wire formats (multipart upload, SSE chat stream, raw
 * s16le 24 kHz PCM), so the openai SDK talks to it exactly as it would to api.openai.com.
 */
export interface FakeOpenAiOptions {
  /** What the "caller said": receives the uploaded audio file. */
  transcribe?: (audio: Uint8Array, form: { model: string; language: string | null }) => string;
  /** The assistant's reply, streamed in chunks of a few words. */
  reply?: (messages: { role: string; content: string }[]) => string;
  /**
   * Function calls for a chat request that offers tools: text said first (optional), then the calls,
   * streamed as the API does (id and name, then the arguments in pieces). Undefined: a plain reply.
   */
  toolCalls?: (
    messages: ChatTurn[],
    tools: string[],
  ) => { content?: string; calls: Array<{ name: string; arguments: string }> } | undefined;
  /** The speech for a text, s16 mono 24 kHz (default: speech-like syllables, 60 ms per character). */
  speech?: (input: string) => Int16Array;
  /**
   * Fixed delays, in ms from the request's arrival, so the server's own work (multipart parsing, making the
   * speech) is inside them: before the response (the first chat chunk, the first speech bytes), and
   * between chat chunks (chunk i goes at chatFirst + i x chatChunk).
   */
  delayMs?: { transcription?: number; chatFirst?: number; chatChunk?: number; speech?: number };
  /** The server's keep-alive idle timeout (ms); Node's 5 s when unset. */
  idleTimeoutMs?: number;
}

/** A chat message as the client sends it (tool calls and their results included). */
export interface ChatTurn {
  role: string;
  content: string | null;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

export interface RecordedRequest {
  readonly path: string;
  readonly body: unknown;
  readonly at: number;
}

export interface FakeOpenAi {
  readonly baseURL: string;
  readonly requests: RecordedRequest[];
  /** TCP connections clients opened so far. */
  readonly connections: number;
  /** The next `count` requests to `path` (or to any path) fail with this status. */
  failNext(status: number, count?: number, path?: string): void;
  close(): Promise<void>;
}

/** Sleeps until `ms` after `t0` (performance.now()); at once if that is past. */
const until = (t0: number, ms: number | undefined) => {
  const wait = t0 + (ms ?? 0) - performance.now();
  return wait > 0 ? new Promise((r) => setTimeout(r, wait)) : Promise.resolve();
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** A streamed chat completion that says `content` (if any) and then calls functions. */
function streamToolCalls(
  res: ServerResponse,
  model: string,
  r: { content?: string; calls: Array<{ name: string; arguments: string }> },
): void {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-test',
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (r.content) res.write(chunk({ role: 'assistant', content: r.content }));
  r.calls.forEach((c, index) => {
    res.write(
      chunk({
        tool_calls: [
          {
            index,
            id: `call_${index}_${c.name}`,
            type: 'function',
            function: { name: c.name, arguments: '' },
          },
        ],
      }),
    );
    const half = Math.ceil(c.arguments.length / 2);
    for (const part of [c.arguments.slice(0, half), c.arguments.slice(half)])
      if (part) res.write(chunk({ tool_calls: [{ index, function: { arguments: part } }] }));
  });
  res.end(`${chunk({}, 'tool_calls')}data: [DONE]\n\n`);
}

export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const requests: RecordedRequest[] = [];
  const failures: { status: number; left: number; path: string | undefined }[] = [];
  const transcribe = options.transcribe ?? ((audio) => `heard ${audio.length} bytes`);
  const reply = options.reply ?? ((m) => `You said: ${m.at(-1)?.content ?? ''}. Anything else?`);
  const delay = options.delayMs ?? {};

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => json(res, 500, { error: { message: String(err) } }));
  });
  // how long an idle client connection is kept (Node's default is 5 s; load balancers keep 60 s or more)
  if (options.idleTimeoutMs !== undefined) server.keepAliveTimeout = options.idleTimeoutMs;
  let connections = 0;
  server.on('connection', () => connections++);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const t0 = performance.now();
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const raw = await readBody(req);
    const failure = failures.find((f) => f.left > 0 && (f.path === undefined || f.path === path));
    if (failure) {
      failure.left--;
      requests.push({ path, body: null, at: Date.now() });
      json(res, failure.status, { error: { message: `injected ${failure.status}`, type: 'test' } });
      return;
    }
    if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
      // multipart/form-data parsed by the platform's own parser (undici), as a server would
      const form = await new Request('http://x', {
        method: 'POST',
        headers: { 'content-type': req.headers['content-type'] ?? '' },
        body: raw,
      }).formData();
      const file = form.get('file');
      if (!(file instanceof Blob)) return json(res, 400, { error: { message: 'file is required' } });
      const audio = new Uint8Array(await file.arrayBuffer());
      const fields = {
        model: String(form.get('model')),
        language: (form.get('language') as string | null) ?? null,
      };
      requests.push({ path, body: { ...fields, bytes: audio.length }, at: Date.now() });
      const text = transcribe(audio, fields);
      await until(t0, delay.transcription);
      return json(res, 200, { text });
    }
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    requests.push({ path, body, at: Date.now() });
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      const offered = ((body.tools as Array<{ function: { name: string } }> | undefined) ?? []).map(
        (t) => t.function.name,
      );
      const calls = offered.length ? options.toolCalls?.(body.messages as ChatTurn[], offered) : undefined;
      if (calls && body.stream) return streamToolCalls(res, String(body.model), calls);
      const text = reply(body.messages as { role: string; content: string }[]);
      await until(t0, delay.chatFirst);
      if (!body.stream) {
        return json(res, 200, {
          id: 'chatcmpl-test',
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
        });
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const words = text.split(/(?<= )/);
      for (let i = 0, n = 0; i < words.length; i += 3, n++) {
        await until(t0, (delay.chatFirst ?? 0) + n * (delay.chatChunk ?? 0));
        const chunk = {
          id: 'chatcmpl-test',
          object: 'chat.completion.chunk',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [{ index: 0, delta: { content: words.slice(i, i + 3).join('') }, finish_reason: null }],
        };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      }
      await until(t0, (delay.chatFirst ?? 0) + Math.ceil(words.length / 3) * (delay.chatChunk ?? 0));
      const done = {
        id: 'chatcmpl-test',
        object: 'chat.completion.chunk',
        model: body.model,
        choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
      };
      res.end(`data: ${JSON.stringify(done)}\n\ndata: [DONE]\n\n`);
      return;
    }
    if (req.method === 'POST' && path === '/v1/audio/speech') {
      if (body.response_format !== 'pcm')
        return json(res, 400, { error: { message: 'only pcm in this fake' } });
      // ~60 ms of speech-like audio per character, s16le mono 24 kHz like the real `pcm` format
      const input = String(body.input ?? '');
      const pcm =
        options.speech?.(input) ?? speechLike(24000, Math.max(0.2, input.length * 0.06), input.length);
      const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      await until(t0, delay.speech);
      res.writeHead(200, { 'content-type': 'audio/pcm' });
      // sent in pieces so a streaming client can start early
      for (let o = 0; o < bytes.length; o += 9600) res.write(bytes.subarray(o, o + 9600));
      res.end();
      return;
    }
    json(res, 404, { error: { message: `no route ${req.method} ${path}` } });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get connections() {
      return connections;
    },
    failNext(status, count = 1, path) {
      failures.push({ status, left: count, path });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
