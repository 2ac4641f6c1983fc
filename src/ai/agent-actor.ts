import { type Actor, createActor } from 'xstate';
import { type AiSessionEvent, aiSessionMachine } from '../machines/ai-session.machine.ts';

/**
 * The AI session machine of one call with its effects bound to the subclass: the chained-provider session
 * and the Realtime session differ only in what the effects do. The no-reply timer is kept here.
 */
export abstract class AgentActor {
  readonly #actor: Actor<typeof aiSessionMachine>;
  #pendingText = '';
  #cancelTimer: (() => void) | undefined;

  constructor(noReply: {
    readonly ms: number;
    readonly setTimer: (ms: number, fire: () => void) => () => void;
  }) {
    const machine = aiSessionMachine.provide({
      actions: {
        startResponse: () => this.startResponse(),
        startSpeech: () => this.startSpeech(this.#pendingText),
        cancelResponse: () => this.cancelResponse(),
        flushPlayout: () => this.flushPlayout(),
        speakApology: () => this.speakApology(),
        startNoReplyTimer: () => {
          this.#cancelTimer = noReply.setTimer(noReply.ms, () => this.send({ type: 'timer.noReply' }));
        },
        cancelNoReplyTimer: () => {
          this.#cancelTimer?.();
          this.#cancelTimer = undefined;
        },
      },
    });
    this.#actor = createActor(machine).start();
  }

  get state(): string {
    return String(this.#actor.getSnapshot().value);
  }

  get context() {
    return this.#actor.getSnapshot().context;
  }

  /** Speak a text without waiting for the caller (the greeting). */
  say(text: string): void {
    this.#pendingText = text;
    this.send({ type: 'say' });
  }

  protected send(event: AiSessionEvent): void {
    this.#actor.send(event);
  }

  /** Answer the caller's finished turn. */
  protected abstract startResponse(): void;
  /** Speak a fixed text (greeting). */
  protected abstract startSpeech(text: string): void;
  protected abstract cancelResponse(): void;
  protected abstract flushPlayout(): void;
  protected abstract speakApology(): void;
}
