import type { PlayoutQueue } from '../media/playout-queue.ts';
import { AgentActor } from './agent-actor.ts';
import type { AiConversation, ReplyPart, TimingStage } from './providers/port.ts';
import type { TurnDetector } from './turn-detector.ts';
import type { Vad } from './vad.ts';

export type AiSessionNote =
  | { readonly type: 'transcript' | 'reply.text'; readonly text: string }
  | { readonly type: 'flushed'; readonly droppedFrames: number }
  | { readonly type: 'error'; readonly reason: string }
  | { readonly type: 'timing'; readonly stage: TimingStage; readonly at: number }
  | Extract<ReplyPart, { type: 'tool' }>
  /** Everything the agent queued so far has been played (the playout clock): deferred call control runs. */
  | { readonly type: 'played' };

export interface AiSessionDeps {
  readonly vad: Vad;
  readonly turns: TurnDetector;
  readonly conversation: AiConversation;
  readonly playout: PlayoutQueue;
  /** Spoken when the provider fails or is silent for too long. */
  readonly apologyText: string;
  /** Schedules the no-reply timer; returns a cancel function (the injected clock). */
  readonly setTimer: (ms: number, fire: () => void) => () => void;
  readonly noReplyMs: number;
  /** Clock for the timing notes (ms). */
  readonly now?: () => number;
  readonly onNote: (note: AiSessionNote) => void;
}

/**
 * Drives the AI session machine for one call: caller frames -> VAD -> turn detector -> machine events; the
 * machine's actions start and cancel provider responses and flush the playout queue.
 */
export class AiSession extends AgentActor {
  readonly #d: AiSessionDeps;
  #pending: Int16Array | undefined;
  #abort: AbortController | undefined;
  #ended = false;
  /** Playout position (frames) where the current reply's audio begins. */
  #replyStart: number | undefined;

  constructor(deps: AiSessionDeps) {
    super({ ms: deps.noReplyMs, setTimer: deps.setTimer });
    this.#d = deps;
  }

  protected startResponse(): void {
    this.#run((s) => this.#d.conversation.respond(this.#takePending(), s));
  }

  protected startSpeech(text: string): void {
    this.#run((s) => this.#d.conversation.say(text, s));
  }

  protected cancelResponse(): void {
    this.#abort?.abort();
    this.#abort = undefined;
  }

  protected flushPlayout(): void {
    if (!this.#ended && this.#replyStart !== undefined) {
      // what the caller really heard of the reply, by the playout clock
      const heardFrames = Math.max(0, this.#d.playout.playedFrames - this.#replyStart);
      this.#d.conversation.interrupted(heardFrames * 20);
    }
    this.#replyStart = undefined;
    const droppedFrames = this.#d.playout.clear();
    if (!this.#ended) this.#d.onNote({ type: 'flushed', droppedFrames });
  }

  protected speakApology(): void {
    this.#run((s) => this.#d.conversation.say(this.#d.apologyText, s));
  }

  /** One 20 ms frame of the caller's decoded audio. */
  onCallerFrame(frame: Int16Array): void {
    for (const e of this.#d.turns.push(frame, this.#d.vad.isSpeech(frame))) {
      // Our own playback yields at the first sign of speech (barge-in); an answer still being prepared is
      // dropped only for real speech, so a click cannot lose it.
      const state = this.state;
      if (e.type === 'speech.onset') {
        if (state === 'speaking' || state === 'recovering') this.send({ type: 'speech.started' });
      } else if (e.type === 'speech.started') {
        if (state === 'thinking') this.send({ type: 'speech.started' });
      } else {
        this.#pending = e.audio;
        this.#d.onNote({ type: 'timing', stage: 'turn.ended', at: this.#now() });
        this.send({ type: 'turn.ended' });
      }
    }
  }

  end(): void {
    this.#ended = true; // the flush that follows is the call's end, not a barge-in
    this.send({ type: 'call.ended' });
    this.#d.conversation.close();
  }

  #now(): number {
    return this.#d.now?.() ?? performance.now();
  }

  #takePending(): Int16Array {
    const t = this.#pending ?? new Int16Array(0);
    this.#pending = undefined;
    return t;
  }

  /** Runs one provider stream; its events reach the machine only while it is still the current one. */
  #run(start: (signal: AbortSignal) => AsyncIterable<ReplyPart>): void {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    const current = () => this.#abort === abort && !abort.signal.aborted;
    void (async () => {
      let audio = false;
      for await (const part of start(abort.signal)) {
        if (!current()) return;
        if (part.type === 'audio') {
          if (!audio) this.#replyStart = this.#d.playout.playedFrames + this.#d.playout.queuedFrames;
          this.#d.playout.appendStream(part.samples);
          if (!audio) {
            audio = true;
            this.#d.onNote({ type: 'timing', stage: 'audio.queued', at: this.#now() });
            this.send({ type: 'reply.audio' });
          }
        } else {
          this.#d.onNote(part);
        }
      }
      if (!current()) return;
      if (!audio) this.send({ type: 'reply.audio' });
      this.#d.playout.mark((reason) => {
        if (reason !== 'played') return;
        this.#d.onNote({ type: 'played' });
        if (current()) this.send({ type: 'reply.done' });
      });
    })().catch((err: unknown) => {
      if (!current()) return;
      const reason = err instanceof Error ? err.message : String(err);
      this.#d.onNote({ type: 'error', reason });
      this.send({ type: 'provider.failed', reason });
    });
  }
}
