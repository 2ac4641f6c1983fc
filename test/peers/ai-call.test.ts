import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { resample } from '../../src/media/resample.ts';
import { readWav } from '../../src/media/wav.ts';
import { callCenterEnv } from '../helpers/ai-env.ts';
import { concatSamples, envelopeCorrelation, readWavFile, speechLike } from '../helpers/audio.ts';
import { baresipConfig, baresipRecording } from '../helpers/baresip.ts';
import { startFakeOpenAi } from '../helpers/fake-openai.ts';
import { freeSipPort, hasBinary, run } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

const AUDIO = join(import.meta.dirname, '../../../shared/peers/audio');
// a recorded question (5.5 s of speech) followed by a minute of silence, so baresip keeps the line open
const QUESTION = join(AUDIO, 'hello_8k_s16_pad60.wav');
const SPEECH = join(AUDIO, 'hello_8k_s16.wav');

/** What the local server's speech endpoint makes of a sentence, as the caller should hear it (8 kHz). */
const ttsOf = (sentence: string) =>
  resample(speechLike(24000, Math.max(0.2, sentence.length * 0.06), sentence.length), 24000, 8000);

describe.skipIf(!hasBinary('baresip') || !existsSync(QUESTION))(
  'AI call center: a real SIP call answered through STT -> chat -> TTS (local OpenAI-compatible server)',
  () => {
    it('baresip asks a recorded question; it is transcribed, answered, and baresip hears the answer', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ai-call-'));
      let uploaded: Int16Array | undefined;
      const fake = await startFakeOpenAi({
        transcribe: (audio) => {
          const w = readWav(audio);
          if (w.ok && w.value.sampleRate === 8000) uploaded = w.value.samples;
          return 'What are your opening hours?';
        },
        reply: () => 'We open at nine. We close at six.',
      });
      const relay = await startTestRelay({
        ...callCenterEnv(fake),
        GREETING_PATH: join(dir, 'none.wav'),
        RTP_PORT_START: '45400',
        RTP_PORT_END: '45499',
      });
      const monitor = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/v1`);
      const events: Array<{ type: string; [k: string]: unknown }> = [];
      monitor.on('message', (d) => events.push(JSON.parse(String(d))));
      await new Promise((r) => monitor.on('open', r));
      const ua = baresipConfig(dir, await freeSipPort(), QUESTION, 'pcmu');
      const r = await run(
        'baresip',
        ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${relay.sip.port}`, '-t', '11'],
        { cwd: dir, timeoutMs: 25_000 },
      );
      monitor.close();
      await relay.close();
      await fake.close();
      expect(r.code, r.stdout.slice(-2000)).toBe(0);

      // the STT request carried the caller's question as heard over RTP (one turn: the VAD ended it)
      const question = readWavFile(SPEECH).samples;
      expect(uploaded, 'an 8 kHz WAV was uploaded').toBeDefined();
      const stt = envelopeCorrelation(uploaded!, question);
      expect(stt.corr, `uploaded turn vs the recorded question (lag ${stt.lagMs} ms)`).toBeGreaterThan(0.9);
      expect(fake.requests.filter((q) => q.path === '/v1/audio/transcriptions')).toHaveLength(1);

      // a monitor on the JSON protocol saw the conversation
      const ai = events.filter((e) => e.type.startsWith('ai.'));
      expect(ai.map((e) => e.type)).toEqual(['ai.transcript', 'ai.latency', 'ai.reply']);
      expect(ai[0]).toMatchObject({ text: 'What are your opening hours?' });
      expect(ai[2]).toMatchObject({ text: 'We open at nine. We close at six.' });

      // baresip heard the answer: both sentences, in order
      const heard = baresipRecording(dir, 'dec').samples;
      const expected = concatSamples(ttsOf('We open at nine.'), ttsOf('We close at six.'));
      const c = envelopeCorrelation(heard, expected, 8000, 11_000);
      console.log(
        `AI call: STT upload vs question r=${stt.corr.toFixed(3)}; baresip heard the answer r=${c.corr.toFixed(3)} at ${c.lagMs} ms; latency ${JSON.stringify(ai[1]?.stages)}`,
      );
      expect(c.corr).toBeGreaterThan(0.9);
      expect(c.lagMs).toBeGreaterThan(5500); // after the question, not over it
    }, 40_000);
  },
);
