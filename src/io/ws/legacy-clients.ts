import type { Logger } from '../../kernel/logger.ts';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import type { MediaManager } from '../media/media-manager.ts';
import type { AudioPacket, ClientProtocol } from './client-protocol.ts';
import { type LegacyCallState, legacyEvent, legacyRtp, parseLegacyCommand } from './legacy-protocol.ts';
import { queueFull } from './queue-full.ts';

/** What legacy clients drive on the calls (a narrow port: the call manager provides it). */
export type LegacyCalls = Pick<
  CallManager,
  'answer' | 'call' | 'dial' | 'hangup' | 'list' | 'plan' | 'reject' | 'transfer'
>;

/**
 * The original relay's text protocol (any path but /v1) as a client protocol: every call's events and
 * audio to every client, commands CALL, RTP, HANGUP/BYE, CALL_ANS, CALL_IGNORE (legacy-protocol.ts has
 * the texts). Nothing is kept per connection.
 */
export class LegacyClients implements ClientProtocol<undefined> {
  readonly name = 'legacy';
  /** What the texts need to know of each call beyond one event (direction, answered). */
  readonly #calls = new Map<string, LegacyCallState>();
  /** Who asked for a call's transfer: told if it fails (a completed one ends the call: BYE). One per call. */
  readonly #transferBy = new Map<string, (text: string) => void>();

  constructor(
    private readonly calls: LegacyCalls,
    private readonly media: MediaManager,
    private readonly log: Logger,
    /** AUTO_ANSWER: the original answered by itself, CALL_ANS and CALL_IGNORE are no-ops then. */
    private readonly autoAnswer: boolean,
  ) {}

  open(): undefined {
    return undefined;
  }

  event(e: CallEvent): string | undefined {
    if (e.type === 'call.incoming') this.#calls.set(e.callId, { direction: 'incoming', answered: false });
    if (e.type === 'call.answered') {
      const s = this.#calls.get(e.callId) ?? { direction: e.direction, answered: false };
      s.answered = true;
      this.#calls.set(e.callId, s);
    }
    if (e.type === 'call.ringing' && !this.#calls.has(e.callId)) {
      this.#calls.set(e.callId, { direction: 'outgoing', answered: false });
    }
    const text = legacyEvent(e, this.#calls.get(e.callId) ?? { direction: 'outgoing', answered: false });
    if (e.type === 'call.transfer' && e.status === 'failed') {
      this.#transferBy.get(e.callId)?.(
        `TRANSFER_FAILED:${e.callId}##${e.code ?? ''} ${e.reason ?? ''}`.trimEnd(),
      );
      this.#transferBy.delete(e.callId);
    }
    if (e.type === 'call.ended') {
      this.#calls.delete(e.callId);
      this.#transferBy.delete(e.callId);
    }
    return text;
  }

  extra(): undefined {
    return undefined;
  }

  wantsAudio(): boolean {
    return true;
  }

  audio(p: AudioPacket): string {
    return legacyRtp(p.payloadType, p.payload);
  }

  ended(): void {}

  binaryRefused(): string {
    return 'ERROR:binary frames are not supported: send text';
  }

  command(_: undefined, text: string, reply: (text: string) => void, client: number): void {
    const cmd = parseLegacyCommand(text);
    if ('error' in cmd) {
      this.log.info({ client, error: cmd.error }, 'bad WebSocket command');
      reply(`ERROR:${cmd.error}`);
      return;
    }
    switch (cmd.kind) {
      case 'call':
        void this.calls.dial(cmd.number).then((r) => {
          if (!r.ok) reply(`CALL_FAILED:${r.status} ${r.reason}`);
        });
        return;
      case 'rtp': {
        const s = this.media.session(cmd.callId);
        if (!s) reply(`ERROR:unknown call ${cmd.callId}`);
        else if (!s.queue.fits(cmd.pcm.length / 8)) reply(`ERROR:${queueFull(s.queue)}`);
        else s.queue.enqueue(cmd.pcm);
        return;
      }
      case 'hangup': {
        let id = cmd.callId;
        if (id === undefined) {
          const live = this.calls.list();
          if (live.length !== 1) {
            reply(`ERROR:${live.length === 0 ? 'no active call' : 'several active calls: name one'}`);
            return;
          }
          id = live[0]!.callId;
        }
        if (!this.calls.hangup(id)) reply(`ERROR:unknown call ${id}`);
        return;
      }
      case 'transfer': {
        const r = this.calls.transfer(cmd.callId, cmd.target);
        if (r.ok) this.#transferBy.set(cmd.callId, reply);
        else reply(`ERROR:${r.message}`);
        return;
      }
      case 'answer':
      case 'reject': {
        if (!this.calls.call(cmd.callId)) {
          reply(`ERROR:unknown call ${cmd.callId}`);
          return;
        }
        // answering follows the call's own plan (its route's `clients: { answer }`, else AUTO_ANSWER): a call
        // that answers by itself takes CALL_ANS as the no-op the original made it; CALL_IGNORE cannot stop it
        if (this.calls.plan(cmd.callId)?.autoAnswer ?? this.autoAnswer) {
          if (cmd.kind === 'reject')
            reply(
              `ERROR:call ${cmd.callId} is answered automatically (AUTO_ANSWER or its route): hang up instead`,
            );
          return;
        }
        const done = cmd.kind === 'answer' ? this.calls.answer(cmd.callId) : this.calls.reject(cmd.callId);
        if (!done) reply(`ERROR:call ${cmd.callId} is not ringing`);
        return;
      }
    }
  }
}
