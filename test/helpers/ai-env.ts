/** The relay's settings to reach a local OpenAI-compatible server (fake-openai.ts, fake-realtime.ts). */
export const openAiEnv = (fake: { baseURL: string }): Record<string, string> => ({
  OPENAI_API_KEY: 'test-key',
  OPENAI_BASE_URL: fake.baseURL,
});

/** The call center on every call (CALL_CENTER), its provider talking to the local server `fake`. */
export const callCenterEnv = (
  fake: { baseURL: string },
  provider: 'openai' | 'openai-realtime' = 'openai',
): Record<string, string> => ({ CALL_CENTER: 'true', AI_PROVIDER: provider, ...openAiEnv(fake) });
