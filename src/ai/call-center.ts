import { type Observable, Subject, type Subscription } from 'rxjs';
import type { Logger } from '../kernel/logger.ts';
import type { CallManager } from '../machines/call-manager.ts';
import type { G711 } from '../media/g711.ts';
import type { PlayoutQueue } from '../media/playout-queue.ts';
import type { AgentPlan } from '../routing/plan.ts';
import type { AiSessionNote } from './ai-session.ts';
import type { TimingStage } from './providers/port.ts';
import type { CallTools } from './tools.ts';

/** What the call center tells monitors (JSON protocol) about each call's conversation. */
export type AiEvent =
  | { readonly type: 'ai.transcript'; readonly callId: string; readonly text: string }
  | { readonly type: 'ai.reply'; readonly callId: string; readonly text: string }
  | { readonly type: 'ai.barge_in'; readonly callId: string; readonly droppedMs: number }
  | { readonly type: 'ai.error'; readonly callId: string; readonly reason: string }
  /** A function the model called (AI_TOOLS): its arguments and what it came to. */
  | {
      readonly type: 'ai.tool';
      readonly callId: string;
      readonly name: string;
      readonly arguments: string;
      readonly ok: boolean;
      readonly result: Record<string, unknown>;
    }
  /** One answered turn's stages in ms after the end of the caller's turn (sent with its ai.reply). */
  | {
      readonly type: 'ai.latency';
      readonly callId: string;
      readonly stages: Partial<Record<TimingStage, number>>;
      /** When the turn ended, epoch ms. */
      readonly turnEndedAt: number;
    };

/** The AI side of one call: fed the caller's audio, speaking into the call's playout queue. */
export interface Agent {
  readonly state: string;
  onCallerFrame(frame: Int16Array): void;
  /** Speak a text without waiting for the caller (the greeting). */
  say(text: string): void;
  end(): void;
}

export interface AgentContext {
  readonly callId: string;
  readonly log: Logger;
  readonly playout: PlayoutQueue;
  readonly codec: G711;
  readonly onNote: (note: AiSessionNote) => void;
  /** The call-control functions the model may call (the plan's tools), carried out on this call. */
  readonly tools: CallTools;
  /** Provider, model, prompt, voice, language, tools: its route's, else the AI_* settings. */
  readonly plan: AgentPlan;
}

/** What an agent uses of its call's media: where its speech goes, the codec, and RFC 4733 digits out. */
export interface AgentMedia {
  readonly queue: PlayoutQueue;
  readonly codec: G711;
  /** Queues digits to send; false when the other side takes no telephone-event. */
  sendDtmf(digits: string): boolean;
}

/** The media side of the calls, as the call center needs it (the relay's media manager). */
export interface CallMediaPort {
  session(callId: string): AgentMedia | undefined;
  /** The caller's decoded audio, 20 ms frames, until the call ends. */
  audio$(callId: string): Observable<Int16Array>;
}

/** The call side, as the call center needs it (the relay's call manager). */
export type AgentCalls = Pick<
  CallManager,
  'events$' | 'plan' | 'earlyMediaPlayed' | 'checkTransfer' | 'transfer' | 'hangup'
>;

/** Makes the agent of one call (chained STT/LLM/TTS or echo behind a VAD, or the Realtime API). */
export type AgentFactory = (ctx: AgentContext) => Promise<Agent>;

interface Running {
  readonly agent: Agent;
  readonly audio: Subscription;
  timings: Partial<Record<TimingStage, number>>;
}

/** Call control a tool asked for, carried out once the agent's reply has been played. */
interface Deferred {
  action?: (() => void) | undefined;
}

/**
 * The AI on the calls whose plan has an agent (an agent route; every call with CALL_CENTER=true and no
 * routes file): when such a call is answered it subscribes to the call's decoded audio, runs VAD and turn detection into an AiSession, and lets the provider's reply stream into the
 * call's playout queue. Transcripts, replies, barge-ins, errors and per-turn latencies are logged per call
 * and published on `events$`.
 */
export class CallCenter {
  readonly events$ = new Subject<AiEvent>();
  readonly #running = new Map<string, Running>();
  readonly #sub: Subscription;

  constructor(
    private readonly calls: AgentCalls,
    private readonly media: CallMediaPort,
    /** Which calls are a warm transfer's consult leg (the clients', not an agent's). */
    warm: { isConsult(callId: string): boolean },
    private readonly makeAgent: AgentFactory,
    private readonly log: Logger,
  ) {
    this.#sub = calls.events$.subscribe((e) => {
      // the consult call of a warm transfer is the clients' (the briefing), not the agent's
      if (e.type === 'call.answered' && !warm.isConsult(e.callId)) void this.#start(e.callId);
      // early media (EARLY_MEDIA): the agent greets before the answer, which follows once that was heard
      else if (e.type === 'call.early' && spokenGreeting(calls.plan(e.callId)?.agent))
        void this.#start(e.callId, true);
      else if (e.type === 'call.ended') this.#stop(e.callId);
      else if (e.type === 'call.transfer' && e.mode === 'attended') {
        // the agent steps aside while its caller waits for a person, and comes back if that fails
        if (e.status === 'progress') this.#stop(e.callId);
        else if (e.status === 'failed') void this.#start(e.callId);
      }
    });
  }

  get size(): number {
    return this.#running.size;
  }

  agent(callId: string): Agent | undefined {
    return this.#running.get(callId)?.agent;
  }

  close(): void {
    this.#sub.unsubscribe();
    for (const id of [...this.#running.keys()]) this.#stop(id);
    this.events$.complete();
  }

  async #start(callId: string, early = false): Promise<void> {
    const media = this.media.session(callId);
    const plan = this.calls.plan(callId)?.agent;
    if (!plan || !media || this.#running.has(callId)) return; // answered after early media: already on
    const log = this.log.child({ callId, component: 'ai' });
    let run: Running | undefined;
    let agent: Agent;
    const deferred: Deferred = {};
    try {
      agent = await this.makeAgent({
        callId,
        log,
        playout: media.queue,
        codec: media.codec,
        onNote: (n) => {
          // the early greeting has been heard: now the call is answered (AUTO_ANSWER)
          if (early && n.type === 'played') {
            early = false;
            this.calls.earlyMediaPlayed(callId);
          }
          this.#note(callId, log, n, run, deferred);
        },
        tools: this.#tools(callId, log, deferred, plan.transferTarget),
        plan,
      });
    } catch (err) {
      log.error({ err: String(err) }, 'AI agent could not start: the call goes on without it');
      return;
    }
    if (!this.media.session(callId) || this.#running.has(callId)) {
      agent.end(); // the call ended while the agent was made
      return;
    }
    run = {
      agent,
      timings: {},
      audio: this.media.audio$(callId).subscribe((frame) => agent.onCallerFrame(frame)),
    };
    this.#running.set(callId, run);
    log.info({}, 'AI agent on the call');
    const greeting = spokenGreeting(plan);
    if (greeting) agent.say(greeting);
  }

  /**
   * The call's side of the agent's functions. A transfer's target is checked at once (the model hears a
   * refusal); the REFER, like the hang-up, waits until what the agent says about it has been played.
   */
  #tools(callId: string, log: Logger, deferred: Deferred, transferTarget: string | undefined): CallTools {
    return {
      transfer: (target) => {
        const t = target ?? transferTarget;
        if (!t) return { ok: false, error: 'no transfer target given, and the call has no default one' };
        const checked = this.calls.checkTransfer(t);
        if (!checked.ok) return { ok: false, error: checked.message };
        deferred.action = () => {
          const r = this.calls.transfer(callId, t);
          if (!r.ok) log.warn({ target: t, why: r.message }, 'AI transfer could not start');
        };
        return { ok: true, target: checked.target };
      },
      endCall: () => {
        deferred.action = () => void this.calls.hangup(callId);
      },
      sendDtmf: (digits) => {
        const s = this.media.session(callId);
        if (!s) return { ok: false, error: 'the call has no media' };
        return s.sendDtmf(digits)
          ? { ok: true }
          : { ok: false, error: 'the other side takes no telephone-event' };
      },
    };
  }

  #note(callId: string, log: Logger, n: AiSessionNote, run: Running | undefined, deferred: Deferred): void {
    switch (n.type) {
      case 'tool': {
        const { type: _, ...tool } = n;
        log.info(tool, `AI called ${n.name}`);
        this.events$.next({ type: 'ai.tool', callId, ...tool });
        return;
      }
      case 'played': {
        const action = deferred.action;
        deferred.action = undefined;
        action?.();
        return;
      }
      case 'transcript':
        log.info({ text: n.text }, 'caller said');
        this.events$.next({ type: 'ai.transcript', callId, text: n.text });
        return;
      case 'reply.text':
        if (run) this.#latency(callId, log, run);
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
        return;
      }
    }
  }

  /** A turn's stages, once its answer is complete (ms after the end of the turn). */
  #latency(callId: string, log: Logger, run: Running): void {
    const start = run.timings['turn.ended'];
    if (start === undefined || run.timings['audio.queued'] === undefined) return;
    const stages = Object.fromEntries(
      Object.entries(run.timings).map(([k, v]) => [k, Math.round((v - start) * 10) / 10]),
    );
    run.timings = {};
    log.info(stages, 'turn latency (ms after the end of the turn)');
    const turnEndedAt = Math.round((performance.timeOrigin + start) * 10) / 10;
    this.events$.next({ type: 'ai.latency', callId, stages, turnEndedAt });
  }

  #stop(callId: string): void {
    const run = this.#running.get(callId);
    if (!run) return;
    this.#running.delete(callId);
    run.audio.unsubscribe();
    run.agent.end();
  }
}

/** The greeting the agent speaks, if any: echo cannot speak a text, so its calls keep the WAV greeting. */
export function spokenGreeting(plan: AgentPlan | undefined): string | undefined {
  return plan && plan.provider !== 'echo' ? plan.greeting : undefined;
}
