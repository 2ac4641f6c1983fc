/**
 * What every AI provider offers the call: given the caller's finished turn (8 kHz mono), stream back what
 * was understood, what is answered, and the reply audio (8 kHz mono, in chunks as they are generated).
 * A provider keeps its own per-call state (history) and stops promptly when `signal` aborts (barge-in).
 */
export type ReplyPart =
  | { readonly type: 'transcript'; readonly text: string }
  | { readonly type: 'reply.text'; readonly text: string }
  | { readonly type: 'audio'; readonly samples: Int16Array }
  /** A function the model called (AI_TOOLS), with what it came to. */
  | {
      readonly type: 'tool';
      readonly name: string;
      readonly arguments: string;
      readonly ok: boolean;
      readonly result: Record<string, unknown>;
    }
  /** When a stage of the answer finished (clock ms): the turn-latency benchmark splits on these. */
  | { readonly type: 'timing'; readonly stage: TimingStage; readonly at: number };

export type TimingStage =
  /** the turn detector closed the caller's turn (AiSession) */
  | 'turn.ended'
  | 'stt.done'
  | 'llm.first'
  | 'llm.done'
  | 'tts.first'
  /** the first reply audio entered the playout queue (AiSession); the next 20 ms tick sends it */
  | 'audio.queued';

export interface AiConversation {
  respond(turn: Int16Array, signal: AbortSignal): AsyncIterable<ReplyPart>;
  /** Speak a fixed text (greeting, apology). */
  say(text: string, signal: AbortSignal): AsyncIterable<ReplyPart>;
  /**
   * The caller barged in after hearing `heardMs` of the latest reply's audio (the playout clock): forget
   * what they did not hear (chained: trim the history; Realtime: conversation.item.truncate).
   */
  interrupted(heardMs: number): void;
  close(): void;
}
