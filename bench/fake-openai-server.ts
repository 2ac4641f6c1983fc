// The local OpenAI-compatible server as its own process (bench/ai-latency.bench.ts), so its CPU time is not
// counted as the relay's. Argument: JSON { reply, transcript, delayMs }. Prints its base URL, then serves.
import { startFakeOpenAi } from '../test/helpers/fake-openai.ts';

const o = JSON.parse(process.argv[2] ?? '{}') as {
  reply: string;
  transcript: string;
  delayMs: { transcription?: number; chatFirst?: number; chatChunk?: number; speech?: number };
};
const fake = await startFakeOpenAi({
  transcribe: () => o.transcript,
  reply: () => o.reply,
  delayMs: o.delayMs,
});
console.log(fake.baseURL);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
