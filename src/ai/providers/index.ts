import type { Config } from '../../config/index.ts';
import type { ConversationFactory } from '../call-center.ts';
import { EchoConversation } from './echo.ts';
import { OpenAiConversation, openAiClient } from './openai.ts';

/** The provider AI_PROVIDER selects, as a per-call factory (one client shared by every call). */
export function conversationFactory(config: Config): ConversationFactory {
  switch (config.aiProvider) {
    case 'echo':
      return () => new EchoConversation();
    case 'openai': {
      const client = openAiClient(config.OPENAI_API_KEY ?? '', config.OPENAI_BASE_URL, config.AI_TIMEOUT_MS);
      const options = {
        sttModel: config.AI_STT_MODEL,
        language: config.AI_LANGUAGE === 'auto' ? undefined : config.AI_LANGUAGE,
        chatModel: config.AI_CHAT_MODEL,
        systemPrompt: config.aiSystemPrompt,
        ttsModel: config.AI_TTS_MODEL,
        voice: config.AI_VOICE,
        speed: config.AI_SPEED,
        retries: config.AI_RETRIES,
        historyTurns: config.AI_HISTORY_TURNS,
      };
      return (_callId, log) => new OpenAiConversation(client, options, log);
    }
    case 'openai-realtime':
      throw new Error('openai-realtime is not wired yet');
  }
}
