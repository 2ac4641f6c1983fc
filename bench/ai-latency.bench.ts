// Turn latency of the AI call center, from the caller's last voiced packet to the first reply packet at the
// caller, on live calls over loopback UDP (scripted softphones) against a local OpenAI-compatible server
// with FIXED delays, so everything above those delays is ours. Split: VAD wait (end-of-turn silence),
// STT, LLM first token, first sentence + TTS first audio, and our own overhead = total - VAD wait - the
// provider's fixed delays on the critical path. Peer, same run, same server: the original's pipeline
// (whole-file STT, non-streamed chat, whole TTS download, then send) plus its mean 2.4 s buffer wait.
import { fork, spawn } from 'node:child_process';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import type { AiEvent } from '../src/ai/call-center.ts';
import { wavHeader } from '../src/media/wav.ts';
import { speechLike } from '../test/helpers/audio.ts';
import { startTestRelay } from '../test/helpers/relay.ts';
import type { PhoneTurn } from './ai-phones.ts';

const CALLS = Number(process.env.BENCH_AI_CALLS ?? 4);
const TURNS = Number(process.env.BENCH_AI_TURNS ?? 15);
const D = { transcription: 150, chatFirst: 200, chatChunk: 40, speech: 120 };
const END_SILENCE = 500;
// 3 words per chunk: the first sentence ("Sure, we open at nine.") is complete with the second chunk
const REPLY = 'Sure, we open at nine. We close at six on weekdays, and at four on Saturdays.';
const FIRST_SENTENCE_CHUNKS = 2;
const PROVIDER_MS = D.transcription + D.chatFirst + (FIRST_SENTENCE_CHUNKS - 1) * D.chatChunk + D.speech;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

export async function runAiLatencyBench(): Promise<void> {
  // the provider runs in its own process: its CPU is not ours
  const server = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'fake-openai-server.ts'),
      JSON.stringify({ transcript: 'When are you open?', reply: REPLY, delayMs: D }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const baseURL = await new Promise<string>((resolve) =>
    server.stdout.once('data', (d: Buffer) => resolve(String(d).trim())),
  );
  const fake = { baseURL, close: async () => void server.kill('SIGTERM') };
  const relay = await startTestRelay({
    CALL_CENTER: 'true',
    AI_PROVIDER: 'openai',
    OPENAI_API_KEY: 'bench',
    OPENAI_BASE_URL: fake.baseURL,
    AI_END_SILENCE_MS: String(END_SILENCE),
    RTP_PORT_START: '46200',
    RTP_PORT_END: '46399',
  });
  const latency = new Map<string, Extract<AiEvent, { type: 'ai.latency' }>[]>();
  relay.ai!.events$.subscribe((e) => {
    if (e.type === 'ai.latency') latency.set(e.callId, [...(latency.get(e.callId) ?? []), e]);
  });
  // the callers in their own process (bench/ai-phones.ts); times come back as epoch ms
  const phones = fork(join(import.meta.dirname, 'ai-phones.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  phones.send({ sipPort: relay.sip.port, calls: CALLS, turns: TURNS });
  const rows = await new Promise<PhoneTurn[]>((resolve, reject) => {
    phones.once('message', (m) => resolve(m as PhoneTurn[]));
    phones.once('exit', (code) => reject(new Error(`the phones' process exited with ${code}`)));
  });
  // the relay's stage timings, matched to the phones' figures turn by turn (the same clock)
  const seen = new Map<string, number>();
  const joined = rows.flatMap((r) => {
    const i = seen.get(r.callId) ?? 0;
    seen.set(r.callId, i + 1);
    const e = latency.get(r.callId)?.[i];
    return e ? [{ ...r, s: e.stages, ended: e.turnEndedAt }] : [];
  });
  const total = joined.map((j) => j.firstReply - j.lastVoiced);
  if (process.env.BENCH_AI_DEBUG)
    for (const j of joined)
      console.log(
        j.callId.slice(-4),
        Math.round(j.firstReply - j.lastVoiced - (j.ended - j.lastVoiced) - PROVIDER_MS),
        JSON.stringify(j.s),
      );
  const vadWait = joined.map((j) => j.ended - j.lastVoiced);
  const stt = joined.map((j) => j.s['stt.done']!);
  const llm = joined.map((j) => j.s['llm.first']! - j.s['stt.done']!);
  const tts = joined.map((j) => j.s['tts.first']! - j.s['llm.first']!);
  const overhead = joined.map((_j, i) => total[i]! - vadWait[i]! - PROVIDER_MS);
  const early = joined.filter(
    (j) => j.ended + j.s['audio.queued']! < j.ended + (j.s['llm.done'] ?? 0),
  ).length;

  // the original's pipeline against the same server, same run
  const client = new OpenAI({ apiKey: 'bench', baseURL: fake.baseURL, maxRetries: 0 });
  const original: number[] = [];
  for (let i = 0; i < 5; i++) {
    const pcm = speechLike(8000, 2.4, i);
    const wav = Buffer.concat([wavHeader(8000, 1, pcm.byteLength), Buffer.from(pcm.buffer)]);
    const t0 = performance.now();
    const text = await client.audio.transcriptions.create({
      file: await toFile(wav, 'a.wav', { type: 'audio/wav' }),
      model: 'whisper-1',
    });
    const chat = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: text.text }],
    });
    const speech = await client.audio.speech.create({
      model: 'gpt-4o-mini-tts',
      voice: 'alloy',
      input: chat.choices[0]?.message.content ?? '',
      response_format: 'pcm',
    });
    await speech.arrayBuffer();
    original.push(performance.now() - t0 + 1200); // + the mean wait for the 2.4 s buffer to fill
  }
  await relay.close();
  await fake.close();

  const line = (name: string, xs: number[]) =>
    `  ${name.padEnd(34)}${pct(xs, 50).toFixed(1).padStart(8)}${pct(xs, 95).toFixed(1).padStart(8)}${Math.max(
      ...xs,
    )
      .toFixed(1)
      .padStart(8)}`;
  console.log(
    `\nAI turn latency: ${CALLS} calls x ${TURNS} turns = ${rows.length} turns (${joined.length} timed by the relay); ` +
      `provider delays STT ${D.transcription}, chat first ${D.chatFirst} + ${D.chatChunk}/chunk, TTS ${D.speech} ms ` +
      `(${PROVIDER_MS} ms on the critical path); end-of-turn silence ${END_SILENCE} ms`,
  );
  console.log(`  ${'stage (ms)'.padEnd(34)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'max'.padStart(8)}`);
  console.log(line('VAD wait (last voiced -> turn end)', vadWait));
  console.log(line('STT', stt));
  console.log(line('LLM first token', llm));
  console.log(line('first sentence + TTS first audio', tts));
  console.log(line('our own overhead', overhead));
  const frameWait = joined.map((j) => j.firstReply - j.ended - j.s['audio.queued']!);
  console.log(
    line(
      '  without queued -> caller',
      overhead.map((o, i) => o - frameWait[i]!),
    ),
  );
  console.log(
    line(
      '  of which: STT request',
      stt.map((x) => x - D.transcription),
    ),
  );
  console.log(
    line(
      '  of which: chat request',
      llm.map((x) => x - D.chatFirst),
    ),
  );
  console.log(
    line(
      '  of which: sentence + TTS request',
      tts.map((x) => x - (FIRST_SENTENCE_CHUNKS - 1) * D.chatChunk - D.speech),
    ),
  );
  console.log(line('  of which: queued -> caller', frameWait));
  console.log(line('total (last voiced -> first reply)', total));
  console.log(`  first reply audio queued before the LLM finished: ${early}/${joined.length} turns`);
  console.log(
    `  peer, the original's pipeline on the same server: p50 ${pct(original, 50).toFixed(0)} ms ` +
      `(incl. 1,200 ms mean buffer wait) -> ours is ${(pct(original, 50) / pct(total, 50)).toFixed(1)}x faster at p50`,
  );
}
