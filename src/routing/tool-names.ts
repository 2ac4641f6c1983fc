/**
 * The call-control functions an AI agent may be given (AI_TOOLS, a route's `tools`): hand the caller to a
 * person, end the call, press keys. The names are part of the plan a route makes; what each one does lives
 * with the agent (src/ai/tools.ts).
 */
export const TOOL_NAMES = ['transfer_call', 'end_call', 'send_dtmf'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];
