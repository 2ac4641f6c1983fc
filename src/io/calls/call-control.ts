import type { AttendedTransfers } from '../../machines/attended-transfers.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import { base64AudioMs, clientAudioProblem, samplesAt8k } from '../../media/client-audio.ts';
import type { PlayoutQueue } from '../../media/playout-queue.ts';
import { narrowbandInSlices } from '../../media/stream-resampler.ts';
import type { MediaManager } from '../media/media-manager.ts';
import type { JsonCommand } from '../ws/json-protocol.ts';
import { queueFull } from '../ws/queue-full.ts';

/** What client commands drive on the calls (a narrow port: the call manager provides it). */
export type ControlledCalls = Pick<
  CallManager,
  'answer' | 'call' | 'dial' | 'hangup' | 'hold' | 'reject' | 'transfer'
>;

/** A command's outcome, in the JSON protocol's words (the REST API maps the codes to HTTP statuses). */
export type ControlResult =
  | { ok: true; callId?: string; consultCallId?: string }
  | { ok: false; code: string; message: string };

/** Every call command but the per-connection subscription. */
export type ControlCommand = Exclude<JsonCommand, { type: 'call.subscribe' }>;

const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
const fail = (code: string, message: string): ControlResult => ({ ok: false, code, message });
const OK: ControlResult = { ok: true };

/**
 * Call control as the JSON WebSocket protocol and the REST API both offer it: one place that turns a
 * validated command into the call manager's and media manager's calls, so both interfaces behave alike.
 * Most commands finish at once; dialling, warm transfers and resampled plays finish later.
 */
export class CallControl {
  /** Plays being resampled, per call queue: the next one waits for them. */
  readonly #playing = new WeakMap<PlayoutQueue, Promise<void>>();

  constructor(
    private readonly calls: ControlledCalls,
    private readonly media: MediaManager,
    /** Warm (attended) transfers: start, complete, cancel. */
    private readonly warm: Pick<AttendedTransfers, 'start' | 'complete' | 'cancel'>,
  ) {}

  run(cmd: ControlCommand): ControlResult | Promise<ControlResult> {
    if (cmd.type === 'call.dial')
      return this.calls
        .dial(cmd.number)
        .then((r) =>
          r.ok ? { ok: true, callId: r.callId } : fail('dial_failed', `${r.status} ${r.reason}`),
        );
    const call = this.calls.call(cmd.callId);
    if (!call) return fail('unknown_call', `no call ${cmd.callId}`);
    switch (cmd.type) {
      case 'call.answer':
        return this.calls.answer(cmd.callId)
          ? OK
          : fail('invalid_state', `call is ${call.state}, not ringing`);
      case 'call.reject':
        return this.calls.reject(cmd.callId, cmd.status)
          ? OK
          : fail('invalid_state', `call is ${call.state}, not ringing`);
      case 'call.hangup':
        return this.calls.hangup(cmd.callId) ? OK : fail('invalid_state', 'call already ended');
      case 'call.hold':
      case 'call.resume': {
        const r = this.calls.hold(cmd.callId, cmd.type === 'call.hold');
        return r.ok ? OK : fail(r.code, r.message);
      }
      case 'call.transfer': {
        if (cmd.mode === 'attended')
          return this.warm
            .start(cmd.callId, cmd.target)
            .then((r) => (r.ok ? warm(r.consultCallId) : fail(r.code, r.message)));
        const r = this.calls.transfer(cmd.callId, cmd.target);
        return r.ok ? OK : fail(r.code, r.message);
      }
      case 'call.transfer.complete':
      case 'call.transfer.cancel': {
        const r =
          cmd.type === 'call.transfer.complete'
            ? this.warm.complete(cmd.callId)
            : this.warm.cancel(cmd.callId);
        return r.ok ? warm(r.consultCallId) : fail(r.code, r.message);
      }
      default:
        break;
    }
    const session = this.media.session(cmd.callId);
    if (!session) return fail('no_media', 'the call has no media yet');
    if (cmd.type === 'call.clear') {
      session.queue.clear();
      return OK;
    }
    if (cmd.type === 'call.dtmf')
      return session.sendDtmf(cmd.digits) ? OK : fail('no_dtmf', 'the peer did not offer telephone-event');
    return this.#play(session.queue, cmd);
  }

  #play(
    queue: PlayoutQueue,
    cmd: Extract<JsonCommand, { type: 'call.play' }>,
  ): ControlResult | Promise<ControlResult> {
    if (cmd.format !== 'l16' && cmd.sampleRate !== 8000) return fail('bad_audio', 'G.711 is 8000 Hz');
    // the cap is checked on the message's length, before any decoding or resampling is done
    if (!queue.fits(base64AudioMs(cmd.audio.length, cmd.format, cmd.sampleRate)))
      return fail('queue_full', queueFull(queue));
    const raw = Buffer.from(cmd.audio, 'base64');
    const problem = clientAudioProblem(cmd.format, cmd.sampleRate, raw);
    if (problem) return fail('bad_audio', problem);
    if (cmd.sampleRate === 8000) {
      queue.enqueue(samplesAt8k(cmd.format, raw));
      return OK;
    }
    // resampled a slice at a time, yielding between slices: other calls' RTP and SIP go on meanwhile;
    // plays for one call queue in the order they came
    const before = this.#playing.get(queue) ?? Promise.resolve();
    const done = before
      .then(() => narrowbandInSlices(raw, cmd.sampleRate, yieldToLoop))
      .then((out): ControlResult => {
        queue.enqueue(out);
        return OK;
      });
    const settled = done.then(() => undefined);
    this.#playing.set(queue, settled);
    void settled.finally(() => {
      if (this.#playing.get(queue) === settled) this.#playing.delete(queue);
    });
    return done;
  }
}

const warm = (consultCallId: string | undefined): ControlResult => ({
  ok: true,
  ...(consultCallId ? { consultCallId } : {}),
});
