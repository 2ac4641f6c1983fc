import { Subject, type Subscription } from 'rxjs';
import type { MediaManager } from '../io/media-manager.ts';
import type { CallManager } from '../machines/call-manager.ts';
import type { Logger } from '../sip/core/logger.ts';
import { AiSession, type AiSessionNote } from './ai-session.ts';
import type { AiConversation, TimingStage } from './providers/port.ts';
import { TurnDetector, type TurnOptions } from './turn-detector.ts';
import { createWebRtcVad, EnergyVad, type Vad } from './vad.ts';

/** What the call center tells monitors (JSON protocol) about each call's conversation. */
export type AiEvent =
  | { readonly type: 'ai.transcript'; readonly callId: string; readonly text: string }
  | { readonly type: 'ai.reply'; readonly callId: string; readonly text: string }
  | { readonly type: 'ai.barge_in'; readonly callId: string; readonly droppedMs: number }
  | { readonly type: 'ai.error'; readonly callId: string; readonly reason: string }
  /** One answered turn's latency split (ms from the end of the caller's turn). */
  | {
      readonly type: 'ai.latency';
      readonly callId: string;
      readonly stages: Partial<Record<TimingStage, number>>;
    };

export interface CallCenterSettings {
  readonly vad: 'webrtc' | 'energy';
  readonly turn: TurnOptions;
  readonly greetingText: string | undefined;
  readonly apologyText: string;
  readonly noReplyMs: number;
}

/** Makes the provider side of one call (chained OpenAI, Realtime, or echo). */
export type ConversationFactory = (callId: string, log: Logger) => AiConversation;

interface Running {
  readonly session: AiSession;
  readonly audio: Subscription;
  readonly vad: Vad & { free?(): void };
  timings: Partial<Record<TimingStage, number>>;
}

/**
 * The AI on every call (CALL_CENTER=true): when a call is answered it subscribes to the call's decoded
 * audio, runs VAD and turn detection into an AiSession, and lets the provider's reply stream into the
 * call's playout queue. Transcripts, replies, barge-ins, errors and per-turn latencies are logged per call
 * and published on `events$`.
 */
export class CallCenter {
  readonly events$ = new Subject<AiEvent>();
  readonly #running = new Map<string, Running>();
  readonly #sub: Subscription;

  private constructor(
    calls: CallManager,
    private readonly media: MediaManager,
    private readonly conversation: ConversationFactory,
    private readonly settings: CallCenterSettings,
    private readonly log: Logger,
  ) {
    this.#sub = calls.events$.subscribe((e) => {
      if (e.type === 'call.answered') void this.#start(e.callId);
      else if (e.type === 'call.ended') this.#stop(e.callId);
    });
  }

  /** Loads the VAD first, so a broken WASM module stops start-up rather than the first call. */
  static async start(
    calls: CallManager,
    media: MediaManager,
    conversation: ConversationFactory,
    settings: CallCenterSettings,
    log: Logger,
  ): Promise<CallCenter> {
    if (settings.vad === 'webrtc') (await createWebRtcVad()).free();
    return new CallCenter(calls, media, conversation, settings, log);
  }

  get size(): number {
    return this.#running.size;
  }

  session(callId: string): AiSession | undefined {
    return this.#running.get(callId)?.session;
  }

  close(): void {
    this.#sub.unsubscribe();
    for (const id of [...this.#running.keys()]) this.#stop(id);
    this.events$.complete();
  }

  async #start(callId: string): Promise<void> {
    const vad: Vad & { free?(): void } =
      this.settings.vad === 'webrtc' ? await createWebRtcVad() : new EnergyVad();
    const media = this.media.session(callId);
    if (!media || this.#running.has(callId)) {
      vad.free?.();
      return; // ended while the VAD was made
    }
    const log = this.log.child({ callId, component: 'ai' });
    const conversation = this.conversation(callId, log);
    let run: Running | undefined;
    const session = new AiSession({
      vad,
      turns: new TurnDetector(this.settings.turn),
      conversation,
      playout: media.queue,
      apologyText: this.settings.apologyText,
      noReplyMs: this.settings.noReplyMs,
      setTimer: (ms, fire) => {
        const t = setTimeout(fire, ms);
        return () => clearTimeout(t);
      },
      onNote: (n) => this.#note(callId, log, n, run),
    });
    run = {
      session,
      vad,
      timings: {},
      audio: this.media.audio$(callId).subscribe((frame) => session.onCallerFrame(frame)),
    };
    this.#running.set(callId, run);
    log.info({}, 'AI agent on the call');
    if (this.settings.greetingText) session.say(this.settings.greetingText);
  }

  #note(callId: string, log: Logger, n: AiSessionNote, run: Running | undefined): void {
    switch (n.type) {
      case 'transcript':
        log.info({ text: n.text }, 'caller said');
        this.events$.next({ type: 'ai.transcript', callId, text: n.text });
        return;
      case 'reply.text':
        log.info({ text: n.text }, 'AI replied');
        this.events$.next({ type: 'ai.reply', callId, text: n.text });
        return;
      case 'flushed':
        log.info({ droppedMs: n.droppedFrames * 20 }, 'barge-in: playback flushed');
        this.events$.next({ type: 'ai.barge_in', callId, droppedMs: n.droppedFrames * 20 });
        return;
      case 'error':
        log.warn({ reason: n.reason }, 'AI provider failed: speaking the recovery prompt');
        this.events$.next({ type: 'ai.error', callId, reason: n.reason });
        return;
      case 'timing': {
        if (!run) return;
        if (n.stage === 'turn.ended') run.timings = { 'turn.ended': n.at };
        else run.timings[n.stage] ??= n.at;
        const start = run.timings['turn.ended'];
        if (n.stage === 'audio.queued' && start !== undefined) {
          const stages = Object.fromEntries(
            Object.entries(run.timings).map(([k, v]) => [k, Math.round((v - start) * 10) / 10]),
          );
          log.info(stages, 'turn latency (ms after the end of the turn)');
          this.events$.next({ type: 'ai.latency', callId, stages });
        }
        return;
      }
    }
  }

  #stop(callId: string): void {
    const run = this.#running.get(callId);
    if (!run) return;
    this.#running.delete(callId);
    run.audio.unsubscribe();
    run.session.end();
    run.vad.free?.();
  }
}
