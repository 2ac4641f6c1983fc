import type OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { Config } from '../../config/index.ts';
import type { AgentPlan } from '../../routing/plan.ts';
import { AiSession } from '../ai-session.ts';
import type { AgentContext, AgentFactory } from '../call-center.ts';
import { RealtimeSession } from '../realtime-session.ts';
import { TurnDetector } from '../turn-detector.ts';
import { createWebRtcVad, EnergyVad, type Vad } from '../vad.ts';
import { EchoConversation } from './echo.ts';
import { OpenAiConversation, openAiClient } from './openai.ts';
import type { AiConversation } from './port.ts';

export interface AgentOptions {
  /** Extra CA certificate(s) for the Realtime WebSocket (tests; a private OpenAI-compatible server). */
  readonly realtimeCa?: Buffer | string;
}

const setTimer = (ms: number, fire: () => void) => {
  const t = setTimeout(fire, ms);
  return () => clearTimeout(t);
};

/**
 * The agent each call's plan selects (its route's, else AI_PROVIDER and the AI_* settings): `echo` and `openai` run our VAD and turn detection into an
 * AiSession; `openai-realtime` streams the call's G.711 to the Realtime API and lets its server VAD take
 * turns. One SDK client serves every call. The WebRTC VAD's WASM is loaded here, so a broken module stops
 * start-up rather than the first call.
 */
export async function agentFactory(config: Config, options: AgentOptions = {}): Promise<AgentFactory> {
  // made on first use: echo needs none (and the SDK refuses to exist without a key)
  let shared: OpenAI | undefined;
  const client = () =>
    (shared ??= openAiClient(config.OPENAI_API_KEY ?? '', config.OPENAI_BASE_URL, config.AI_TIMEOUT_MS));
  const language = (plan: AgentPlan) => (plan.language === 'auto' ? undefined : plan.language);

  const realtime = (ctx: AgentContext) => {
    const plan = ctx.plan;
    const settings = {
      model: plan.model,
      instructions: plan.prompt,
      voice: plan.voice,
      transcriptionModel: config.AI_STT_MODEL,
      language: language(plan),
      silenceMs: config.AI_END_SILENCE_MS,
      prefixMs: 300,
      apologyText: config.AI_ERROR_TEXT,
      noReplyMs: config.AI_RESPONSE_TIMEOUT_MS,
    };
    return new RealtimeSession({
      connect: () =>
        new OpenAIRealtimeWS(
          {
            model: settings.model,
            ...(options.realtimeCa ? { options: { ca: options.realtimeCa } } : {}),
          },
          client(),
        ),
      playout: ctx.playout,
      codec: ctx.codec,
      settings,
      log: ctx.log,
      setTimer,
      onNote: ctx.onNote,
      tools: { enabled: plan.tools, call: ctx.tools },
    });
  };

  if (config.AI_VAD === 'webrtc') (await createWebRtcVad()).free();
  const conversation = (ctx: AgentContext): AiConversation =>
    ctx.plan.provider === 'openai'
      ? new OpenAiConversation(
          client(),
          {
            sttModel: config.AI_STT_MODEL,
            language: language(ctx.plan),
            chatModel: ctx.plan.model,
            systemPrompt: ctx.plan.prompt,
            ttsModel: config.AI_TTS_MODEL,
            voice: ctx.plan.voice,
            speed: config.AI_SPEED,
            retries: config.AI_RETRIES,
            historyTurns: config.AI_HISTORY_TURNS,
          },
          ctx.log,
          undefined,
          { enabled: ctx.plan.tools, call: ctx.tools },
        )
      : new EchoConversation();
  return async (ctx: AgentContext) => {
    if (ctx.plan.provider === 'openai-realtime') return realtime(ctx);
    const vad: Vad & { free?(): void } =
      config.AI_VAD === 'webrtc' ? await createWebRtcVad() : new EnergyVad();
    const session = new AiSession({
      vad,
      turns: new TurnDetector({
        endSilenceMs: config.AI_END_SILENCE_MS,
        minSpeechMs: config.AI_MIN_SPEECH_MS,
        bargeInMs: config.AI_BARGE_IN_MS,
        maxFrames: config.CALL_CENTER_BUFFER_SIZE,
        prefixMs: 200,
      }),
      conversation: conversation(ctx),
      playout: ctx.playout,
      apologyText: config.AI_ERROR_TEXT,
      setTimer,
      noReplyMs: config.AI_RESPONSE_TIMEOUT_MS,
      onNote: ctx.onNote,
    });
    return {
      get state() {
        return session.state;
      },
      onCallerFrame: (f) => session.onCallerFrame(f),
      say: (t) => session.say(t),
      end: () => {
        session.end();
        vad.free?.();
      },
    };
  };
}
