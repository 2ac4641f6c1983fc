import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import { base64AudioMs, clientAudioProblem, samplesAt8k } from '../../media/client-audio.ts';
import type { PlayoutQueue } from '../../media/playout-queue.ts';
import { narrowbandInSlices } from '../../media/stream-resampler.ts';
import type { MediaManager } from '../media-manager.ts';
import type { AudioPacket, ClientProtocol } from './client-protocol.ts';
import { type JsonCommand, type JsonReply, jsonEvent, parseJsonCommand } from './json-protocol.ts';
import { queueFull } from './queue-full.ts';

/** What a JSON client asked for: the calls whose audio it gets ('*' = all). */
export interface JsonClientState {
  readonly audio: Set<string>;
}

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));

/**
 * The typed JSON protocol on /v1 (json-protocol.ts has the schema) as a client protocol: every event as
 * JSON, audio of the calls a client subscribed to, commands answered with `ack` or `error` (with the id).
 */
export class JsonClients implements ClientProtocol<JsonClientState> {
  readonly name = 'json';
  /** Plays being resampled, per call queue: the next one waits for them. */
  readonly #playing = new WeakMap<PlayoutQueue, Promise<void>>();

  constructor(
    private readonly calls: CallManager,
    private readonly media: MediaManager,
  ) {}

  open(): JsonClientState {
    return { audio: new Set() };
  }

  event(e: CallEvent): string {
    return JSON.stringify(jsonEvent(e));
  }

  extra(e: { readonly type: string; readonly callId: string }): string {
    return JSON.stringify(e);
  }

  wantsAudio(s: JsonClientState, callId: string): boolean {
    return s.audio.has('*') || s.audio.has(callId);
  }

  audio(p: AudioPacket): string {
    return JSON.stringify({
      type: 'call.audio',
      callId: p.callId,
      format: p.payloadType === 8 ? 'pcma' : 'pcmu',
      payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength).toString('base64'),
    });
  }

  ended(s: JsonClientState, callId: string): void {
    s.audio.delete(callId);
  }

  binaryRefused(): string {
    return JSON.stringify({
      type: 'error',
      code: 'binary',
      message: 'binary frames are not supported: send text',
    });
  }

  command(s: JsonClientState, text: string, send: (text: string) => void): void {
    const parsed = parseJsonCommand(text);
    const reply = (r: JsonReply) => send(JSON.stringify(r));
    if (!parsed.ok) {
      reply(parsed.reply);
      return;
    }
    const cmd = parsed.command;
    const rid = cmd.id === undefined ? {} : { id: cmd.id };
    const fail = (code: string, message: string) => reply({ type: 'error', ...rid, code, message });
    const ack = (extra: { callId?: string } = {}) => reply({ type: 'ack', ...rid, ...extra });
    const ackWarm = (consultCallId: string | undefined) =>
      reply({ type: 'ack', ...rid, ...(consultCallId ? { consultCallId } : {}) });
    if (cmd.type === 'call.dial') {
      void this.calls
        .dial(cmd.number)
        .then((r) => (r.ok ? ack({ callId: r.callId }) : fail('dial_failed', `${r.status} ${r.reason}`)));
      return;
    }
    if (cmd.type === 'call.subscribe') {
      if (cmd.audio) s.audio.add(cmd.callId);
      else s.audio.delete(cmd.callId);
      ack();
      return;
    }
    const call = this.calls.call(cmd.callId);
    if (!call) {
      fail('unknown_call', `no call ${cmd.callId}`);
      return;
    }
    switch (cmd.type) {
      case 'call.answer':
        return void (this.calls.answer(cmd.callId)
          ? ack()
          : fail('invalid_state', `call is ${call.state}, not ringing`));
      case 'call.reject':
        return void (this.calls.reject(cmd.callId, cmd.status)
          ? ack()
          : fail('invalid_state', `call is ${call.state}, not ringing`));
      case 'call.hangup':
        return void (this.calls.hangup(cmd.callId) ? ack() : fail('invalid_state', 'call already ended'));
      case 'call.hold':
      case 'call.resume': {
        const r = this.calls.hold(cmd.callId, cmd.type === 'call.hold');
        return void (r.ok ? ack() : fail(r.code, r.message));
      }
      case 'call.transfer': {
        if (cmd.mode === 'attended') {
          void this.calls.warm
            .start(cmd.callId, cmd.target)
            .then((r) => (r.ok ? ackWarm(r.consultCallId) : fail(r.code, r.message)));
          return;
        }
        const r = this.calls.transfer(cmd.callId, cmd.target);
        return void (r.ok ? ack() : fail(r.code, r.message));
      }
      case 'call.transfer.complete':
      case 'call.transfer.cancel': {
        const r =
          cmd.type === 'call.transfer.complete'
            ? this.calls.warm.complete(cmd.callId)
            : this.calls.warm.cancel(cmd.callId);
        return void (r.ok ? ackWarm(r.consultCallId) : fail(r.code, r.message));
      }
      default:
        break;
    }
    const session = this.media.session(cmd.callId);
    if (!session) {
      fail('no_media', 'the call has no media yet');
      return;
    }
    if (cmd.type === 'call.clear') {
      session.queue.clear();
      ack();
    } else if (cmd.type === 'call.dtmf') {
      if (session.sendDtmf(cmd.digits)) ack();
      else fail('no_dtmf', 'the peer did not offer telephone-event');
    } else if (cmd.type === 'call.play') {
      this.#play(session.queue, cmd, ack, fail);
    }
  }

  #play(
    queue: PlayoutQueue,
    cmd: Extract<JsonCommand, { type: 'call.play' }>,
    ack: () => void,
    fail: (code: string, message: string) => void,
  ): void {
    if (cmd.format !== 'l16' && cmd.sampleRate !== 8000) {
      fail('bad_audio', 'G.711 is 8000 Hz');
      return;
    }
    // the cap is checked on the message's length, before any decoding or resampling is done
    if (!queue.fits(base64AudioMs(cmd.audio.length, cmd.format, cmd.sampleRate))) {
      fail('queue_full', queueFull(queue));
      return;
    }
    const raw = Buffer.from(cmd.audio, 'base64');
    const problem = clientAudioProblem(cmd.format, cmd.sampleRate, raw);
    if (problem) {
      fail('bad_audio', problem);
      return;
    }
    if (cmd.sampleRate === 8000) {
      queue.enqueue(samplesAt8k(cmd.format, raw));
      ack();
      return;
    }
    // resampled a slice at a time, yielding between slices: other calls' RTP and SIP go on meanwhile;
    // plays for one call queue in the order they came
    const before = this.#playing.get(queue) ?? Promise.resolve();
    const done = before
      .then(() => narrowbandInSlices(raw, cmd.sampleRate, yieldToLoop))
      .then((out) => {
        queue.enqueue(out);
        ack();
      });
    this.#playing.set(queue, done);
    void done.finally(() => {
      if (this.#playing.get(queue) === done) this.#playing.delete(queue);
    });
  }
}
