import type { AiConversation, ReplyPart } from './port.ts';

/**
 * The offline, key-less provider: it plays the caller's own turn back after the same turn detection, so a
 * newcomer can try the whole loop (VAD, end of turn, playout, barge-in) with no account. It has no speech
 * synthesis, so fixed texts (greeting, apology) are reported but not spoken.
 */
export class EchoConversation implements AiConversation {
  async *respond(turn: Int16Array, signal: AbortSignal): AsyncIterable<ReplyPart> {
    yield { type: 'transcript', text: `(${Math.round(turn.length / 8)} ms of audio)` };
    // in 200 ms chunks, as a streaming provider would deliver them
    for (let o = 0; o < turn.length && !signal.aborted; o += 1600) {
      yield { type: 'audio', samples: turn.subarray(o, o + 1600) };
    }
    // the reply's text after its audio, as the chained provider reports it: the turn's latency (first
    // audio queued) is known by then and reported with it
    yield { type: 'reply.text', text: '(echo)' };
  }

  async *say(text: string): AsyncIterable<ReplyPart> {
    yield { type: 'reply.text', text };
  }

  interrupted(): void {}

  close(): void {}
}
