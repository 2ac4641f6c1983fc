import { assign, setup } from 'xstate';

/**
 * One AI conversation on one call: listen until the caller finishes a turn, think (transcribe + answer),
 * speak the reply into the call's playout queue, listen again. Caller speech while we speak is a barge-in:
 * the playout queue is flushed at once and the response cancelled (for Realtime, truncated at what the
 * caller really heard). A failed or silent provider leads to a spoken recovery prompt, never to a dropped
 * call. Effects are named actions and timers explicit events, as in the call machine.
 */
export type AiSessionEvent =
  /** Speak without a caller turn: the greeting. */
  | { type: 'say' }
  /** The VAD heard enough speech to be sure the caller talks. */
  | { type: 'speech.started' }
  /** The caller has finished a turn. */
  | { type: 'turn.ended' }
  /** The first audio of our reply is ready for the playout queue. */
  | { type: 'reply.audio' }
  /** Everything we meant to say has been generated and played out. */
  | { type: 'reply.done' }
  | { type: 'provider.failed'; reason: string }
  /** The provider gave no audio in time (AI_RESPONSE_TIMEOUT). */
  | { type: 'timer.noReply' }
  | { type: 'call.ended' };

export interface AiSessionContext {
  readonly turns: number;
  readonly bargeIns: number;
  readonly failures: number;
  readonly lastFailure: string | undefined;
}

// The call ended (BYE, CANCEL, hang-up): from every live state, stop generating and playing. Written out per
// state rather than on the root so the drawing shows it from each state.
const ended = { target: 'closed', actions: ['cancelResponse', 'flushPlayout'] } as const;

export const aiSessionMachine = setup({
  types: { context: {} as AiSessionContext, events: {} as AiSessionEvent },
  actions: {
    /** Hand the finished turn to the provider (STT -> LLM -> TTS, or commit to Realtime). */
    startResponse: () => {},
    /** Speak a fixed text (greeting) through the provider's TTS. */
    startSpeech: () => {},
    /** Stop generating: abort HTTP streams, or response.cancel + conversation.item.truncate. */
    cancelResponse: () => {},
    /** Empty the call's playout queue now, so the caller stops hearing us within a packet. */
    flushPlayout: () => {},
    /** Play the recovery prompt (AI_ERROR_TEXT spoken, or a recorded fallback). */
    speakApology: () => {},
    startNoReplyTimer: () => {},
    cancelNoReplyTimer: () => {},
  },
}).createMachine({
  id: 'ai',
  initial: 'listening',
  context: { turns: 0, bargeIns: 0, failures: 0, lastFailure: undefined },
  states: {
    listening: {
      on: {
        'call.ended': ended,
        'turn.ended': {
          target: 'thinking',
          actions: [assign({ turns: ({ context }) => context.turns + 1 }), 'startResponse'],
        },
        say: { target: 'thinking', actions: 'startSpeech' },
      },
    },
    thinking: {
      entry: 'startNoReplyTimer',
      exit: 'cancelNoReplyTimer',
      on: {
        'call.ended': ended,
        'reply.audio': 'speaking',
        // The caller went on talking before we answered: drop this answer; the runner keeps the unanswered
        // words in the history so the next turn answers both.
        'speech.started': { target: 'listening', actions: 'cancelResponse' },
        'provider.failed': {
          target: 'recovering',
          actions: assign(({ context, event }) => ({
            failures: context.failures + 1,
            lastFailure: event.reason,
          })),
        },
        'timer.noReply': {
          target: 'recovering',
          actions: [
            'cancelResponse',
            assign(({ context }) => ({ failures: context.failures + 1, lastFailure: 'timeout' })),
          ],
        },
      },
    },
    speaking: {
      on: {
        'call.ended': ended,
        'speech.started': {
          target: 'listening',
          actions: [
            'flushPlayout',
            'cancelResponse',
            assign({ bargeIns: ({ context }) => context.bargeIns + 1 }),
          ],
        },
        'reply.done': 'listening',
        // Part of the reply already plays; the apology follows it.
        'provider.failed': {
          target: 'recovering',
          actions: assign(({ context, event }) => ({
            failures: context.failures + 1,
            lastFailure: event.reason,
          })),
        },
      },
    },
    recovering: {
      entry: 'speakApology',
      on: {
        'call.ended': ended,
        'reply.done': 'listening',
        'speech.started': { target: 'listening', actions: 'flushPlayout' },
        // even the apology failed (TTS down): listen again rather than hang
        'provider.failed': 'listening',
      },
    },
    closed: { type: 'final' },
  },
});
