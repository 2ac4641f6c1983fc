import type { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { Logger } from '../kernel/logger.ts';
import { decodeG711, encodeG711, type G711 } from '../media/g711.ts';
import type { PlayoutQueue } from '../media/playout-queue.ts';
import { AgentActor } from './agent-actor.ts';
import type { AiSessionNote } from './ai-session.ts';
import { type CallTools, realtimeTools, runTool, type ToolName } from './tools.ts';

export interface RealtimeSettings {
  readonly model: string;
  readonly instructions: string;
  readonly voice: string;
  /** Input transcription model (transcripts for the log and the monitors). */
  readonly transcriptionModel: string;
  readonly language: string | undefined;
  /** server_vad: silence that ends a turn, audio kept before speech. */
  readonly silenceMs: number;
  readonly prefixMs: number;
  readonly apologyText: string;
  readonly noReplyMs: number;
}

export interface RealtimeDeps {
  /** Opens a Realtime WebSocket (a new one on every reconnect). */
  readonly connect: () => OpenAIRealtimeWS;
  readonly playout: PlayoutQueue;
  /** The call's codec: the session speaks it both ways (audio/pcmu or audio/pcma), no resampling. */
  readonly codec: G711;
  readonly settings: RealtimeSettings;
  readonly log: Logger;
  readonly setTimer: (ms: number, fire: () => void) => () => void;
  readonly now?: () => number;
  readonly onNote: (note: AiSessionNote) => void;
  /** The call-control functions offered to the model (AI_TOOLS) and the call that carries them out. */
  readonly tools?: { readonly enabled: readonly ToolName[]; readonly call: CallTools };
}

type ServerEvent = { type: string; [k: string]: unknown };

/** Reconnect delays after the Realtime socket drops (ms), the last one repeating. */
const BACKOFF = [100, 250, 500, 1000, 2000, 5000];

/**
 * One call on the OpenAI Realtime API: the caller's G.711 goes up as it arrives, the server's VAD decides
 * turns, and the reply's G.711 comes down into the call's playout queue. It drives the same AI session
 * machine as the chained providers: `speech_started` while we speak is a barge-in (flush the playout
 * queue, `response.cancel`, and `conversation.item.truncate` at what the playout clock says the caller
 * heard). A dropped socket is reopened with backoff; the session is configured again and the conversation
 * so far replayed as text items, so the agent continues where it was.
 */
export class RealtimeSession extends AgentActor {
  readonly #d: RealtimeDeps;
  #rt: OpenAIRealtimeWS | undefined;
  #open = false;
  #ended = false;
  #attempt = 0;
  /** Control messages waiting for the socket (audio is not kept: it would be stale). */
  readonly #outbox: object[] = [];
  /** The conversation as text, replayed after a reconnect. */
  readonly #history: Array<{ role: 'user' | 'assistant'; text: string }> = [];
  #responseActive = false;
  /** The assistant audio item being played and where in the playout queue it begins. */
  #item: { id: string; start: number } | undefined;
  #ignoreResponse: string | undefined;
  #response: string | undefined;

  constructor(deps: RealtimeDeps) {
    super({ ms: deps.settings.noReplyMs, setTimer: deps.setTimer });
    this.#d = deps;
    this.#connect();
  }

  protected startResponse(): void {
    // nothing to do: the server's VAD commits the turn and creates the response itself (create_response)
  }

  protected startSpeech(text: string): void {
    this.#speak(text);
  }

  protected cancelResponse(): void {
    if (this.#responseActive) this.#send({ type: 'response.cancel' });
    this.#ignoreResponse = this.#response;
    this.#responseActive = false;
  }

  protected flushPlayout(): void {
    if (!this.#ended && this.#item) {
      // tell the model what the caller really heard (the playout clock)
      const heardMs = Math.max(0, this.#d.playout.playedFrames - this.#item.start) * 20;
      this.#send({
        type: 'conversation.item.truncate',
        item_id: this.#item.id,
        content_index: 0,
        audio_end_ms: heardMs,
      });
    }
    this.#item = undefined;
    const droppedFrames = this.#d.playout.clear();
    if (!this.#ended) this.#d.onNote({ type: 'flushed', droppedFrames });
  }

  protected speakApology(): void {
    this.#speak(this.#d.settings.apologyText);
  }

  /** One 20 ms frame of the caller's audio, sent up in the call's own G.711 law. */
  onCallerFrame(frame: Int16Array): void {
    if (!this.#open || !this.#rt) return; // reconnecting: this audio is lost, the caller hears nothing odd
    const audio = Buffer.from(encodeG711(this.#d.codec, frame)).toString('base64');
    this.#rt.send({ type: 'input_audio_buffer.append', audio });
  }

  end(): void {
    this.#ended = true;
    this.send({ type: 'call.ended' });
    this.#rt?.close({ code: 1000, reason: 'call ended' });
    this.#rt = undefined;
  }

  #now(): number {
    return this.#d.now?.() ?? performance.now();
  }

  /** The response being answered has called a function: ask again after its result (see response.done). */
  #followUp = false;
  /** The current response has sent audio. */
  #spoke = false;

  /**
   * A function call of the model: run it, and give the model its result as a `function_call_output`
   * item. When the response has spoken nothing, or the call failed, the model is asked for a new response
   * once this one is done, so the caller hears what happened.
   */
  #onFunctionCall(callId: string, name: string, args: string): void {
    const tools = this.#d.tools;
    if (!tools) return;
    const outcome = runTool(tools.enabled, name, args, tools.call);
    this.#d.onNote({ type: 'tool', ...outcome });
    this.#send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: callId, output: JSON.stringify(outcome.result) },
    });
    if (!outcome.ok || !this.#spoke) this.#followUp = true;
  }

  /** A fixed text (greeting, apology) spoken by the model; its transcript comes back like any reply's. */
  #speak(text: string): void {
    this.#send({
      type: 'response.create',
      response: { instructions: `Say exactly this, and nothing else: ${text}` },
    });
  }

  #send(event: object): void {
    if (this.#open && this.#rt) this.#rt.send(event as never);
    else this.#outbox.push(event);
  }

  #sessionUpdate(): object {
    const s = this.#d.settings;
    const format = { type: this.#d.codec === 'PCMA' ? 'audio/pcma' : 'audio/pcmu' };
    return {
      type: 'session.update',
      session: {
        type: 'realtime',
        model: s.model,
        instructions: s.instructions,
        output_modalities: ['audio'],
        audio: {
          input: {
            format,
            transcription: { model: s.transcriptionModel, ...(s.language ? { language: s.language } : {}) },
            turn_detection: {
              type: 'server_vad',
              silence_duration_ms: s.silenceMs,
              prefix_padding_ms: s.prefixMs,
              create_response: true,
              interrupt_response: true,
            },
          },
          output: { format, voice: s.voice },
        },
        ...(this.#d.tools?.enabled.length
          ? { tools: realtimeTools(this.#d.tools.enabled), tool_choice: 'auto' }
          : {}),
      },
    };
  }

  #connect(): void {
    if (this.#ended) return;
    let rt: OpenAIRealtimeWS;
    try {
      rt = this.#d.connect();
    } catch (err) {
      this.#d.log.error({ err: String(err) }, 'Realtime: cannot connect');
      this.#retry();
      return;
    }
    this.#rt = rt;
    rt.on('error', (err) => {
      const reason = err.message.split('\n')[0] ?? 'error';
      this.#d.log.warn({ reason }, 'Realtime error');
      if (this.#responseActive || this.state === 'thinking') {
        this.#d.onNote({ type: 'error', reason });
        this.#responseActive = false;
        this.send({ type: 'provider.failed', reason });
      }
    });
    rt.on('event', (e) => this.#onEvent(e as unknown as ServerEvent));
    rt.socket.on('open', () => {
      if (this.#rt !== rt) return;
      this.#open = true;
      if (this.#attempt > 0) this.#d.log.info({ attempt: this.#attempt }, 'Realtime reconnected');
      this.#attempt = 0;
      rt.send(this.#sessionUpdate() as never);
      for (const h of this.#history) {
        rt.send({
          type: 'conversation.item.create',
          item: {
            type: 'message',
            role: h.role,
            content: [{ type: h.role === 'user' ? 'input_text' : 'output_text', text: h.text }],
          },
        } as never);
      }
      for (const e of this.#outbox.splice(0)) rt.send(e as never);
    });
    rt.socket.on('close', (code) => {
      if (this.#rt !== rt) return;
      this.#open = false;
      this.#rt = undefined;
      if (this.#ended) return;
      this.#d.log.warn({ code }, 'Realtime socket closed: reconnecting');
      if (this.#responseActive || this.state === 'thinking' || this.state === 'speaking') {
        this.#responseActive = false;
        this.#d.onNote({ type: 'error', reason: `realtime socket closed (${code})` });
        this.send({ type: 'provider.failed', reason: `realtime socket closed (${code})` });
      }
      this.#retry();
    });
  }

  #retry(): void {
    const wait = BACKOFF[Math.min(this.#attempt, BACKOFF.length - 1)]!;
    this.#attempt++;
    this.#d.setTimer(wait, () => this.#connect());
  }

  #onEvent(e: ServerEvent): void {
    switch (e.type) {
      case 'input_audio_buffer.speech_started':
        this.send({ type: 'speech.started' });
        return;
      case 'input_audio_buffer.speech_stopped':
        this.#d.onNote({ type: 'timing', stage: 'turn.ended', at: this.#now() });
        this.send({ type: 'turn.ended' });
        return;
      case 'conversation.item.input_audio_transcription.completed': {
        const text = String(e.transcript ?? '').trim();
        if (!text) return;
        this.#history.push({ role: 'user', text });
        this.#d.onNote({ type: 'transcript', text });
        return;
      }
      case 'response.created':
        this.#response = String((e.response as { id?: unknown } | undefined)?.id ?? '');
        this.#responseActive = true;
        this.#spoke = false;
        return;
      case 'response.output_audio.delta': {
        if (this.#response !== undefined && this.#response === this.#ignoreResponse) return;
        const bytes = Buffer.from(String(e.delta), 'base64');
        const first = this.#item?.id !== e.item_id;
        if (first) {
          this.#item = {
            id: String(e.item_id),
            start: this.#d.playout.playedFrames + this.#d.playout.queuedFrames,
          };
        }
        this.#d.playout.appendStream(decodeG711(this.#d.codec, bytes));
        this.#spoke = true;
        if (first) {
          this.#d.onNote({ type: 'timing', stage: 'audio.queued', at: this.#now() });
          this.send({ type: 'reply.audio' });
        }
        return;
      }
      case 'response.output_audio_transcript.done': {
        const text = String(e.transcript ?? '').trim();
        if (!text || this.#response === this.#ignoreResponse) return;
        this.#history.push({ role: 'assistant', text });
        this.#d.onNote({ type: 'reply.text', text });
        return;
      }
      case 'response.function_call_arguments.done': {
        if (this.#response !== undefined && this.#response === this.#ignoreResponse) return;
        this.#onFunctionCall(String(e.call_id ?? ''), String(e.name ?? ''), String(e.arguments ?? ''));
        return;
      }
      case 'response.done': {
        const response = e.response as { id?: string; status?: string; status_details?: unknown };
        this.#responseActive = false;
        if (response?.id !== undefined && response.id === this.#ignoreResponse) return;
        // a function was called and the caller has heard nothing about it (or it failed): the model speaks
        const followUp = this.#followUp;
        this.#followUp = false;
        if (followUp && response?.status === 'completed') {
          this.#send({ type: 'response.create' });
          return;
        }
        if (response?.status === 'failed') {
          const reason = `response failed: ${JSON.stringify(response.status_details ?? {})}`;
          this.#d.onNote({ type: 'error', reason });
          this.send({ type: 'provider.failed', reason });
          return;
        }
        if (response?.status === 'cancelled') return;
        // no audio at all (text only): nothing to wait for
        if (!this.#item) this.send({ type: 'reply.audio' });
        const item = this.#item;
        this.#d.playout.mark((reason) => {
          if (reason !== 'played') return;
          this.#d.onNote({ type: 'played' });
          if (this.#item === item) this.send({ type: 'reply.done' });
        });
        return;
      }
    }
  }
}
