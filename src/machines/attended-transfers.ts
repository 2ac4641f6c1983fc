import type { Subscription } from 'rxjs';
import type { Logger } from '../kernel/logger.ts';
import type { CallEvent } from './call-events.ts';

/** The media side of a warm transfer: hold music for the waiting caller, and the two calls' audio joined. */
export interface MediaBridge {
  /** Plays (or stops) the music on hold to a call locally, without signalling. */
  holdMusic(callId: string, on: boolean): void;
  /** Joins two calls' audio both ways; the returned function parts them. */
  bridge(a: string, b: string): () => void;
}

/** What a warm transfer needs of the call manager. */
export interface TransferCalls {
  readonly events$: { subscribe(fn: (e: CallEvent) => void): Subscription };
  checkTransfer(target: string): { ok: true; target: string } | { ok: false; message: string };
  dialUri(
    target: string,
  ): Promise<{ ok: true; callId: string } | { ok: false; status: number; reason: string }>;
  hangup(callId: string): boolean;
  announce(e: CallEvent): void;
  established(callId: string): boolean;
  /**
   * Asks the caller to call the target itself, replacing our call with it (REFER with Replaces, RFC 3891):
   * false when the caller takes no REFER or the target no Replaces (then the relay bridges).
   */
  referReplacing(caller: string, consult: string): boolean;
}

interface Warm {
  readonly caller: string;
  readonly target: string;
  consult: string | undefined;
  state: 'dialing' | 'consulting' | 'referring' | 'bridged';
  unbridge?: () => void;
}

export type WarmResult =
  | { ok: true; consultCallId?: string }
  | {
      ok: false;
      code: 'unknown_call' | 'invalid_state' | 'bad_target' | 'forbidden_target' | 'dial_failed';
      message: string;
    };

/**
 * Warm (attended) transfer: the caller waits (music on hold), the relay calls the human (the consult call,
 * an ordinary outgoing call clients can speak to: the briefing), and on `complete` connects them: by REFER
 * with Replaces to the caller when the caller takes REFER and the human takes Replaces (RFC 3891: the
 * caller calls the human itself and the relay leaves both calls), else, or when that REFER fails, by
 * joining the two calls' audio in the relay (hanging up either side then ends both). If the human does not
 * answer or declines, the caller gets its agent back. Every step is a `call.transfer` event of the caller's
 * call (`mode: attended`): progress (dialling, with `consultCallId`), consulting (the human answered),
 * completed (joined), failed.
 */
export class AttendedTransfers {
  readonly #byCaller = new Map<string, Warm>();
  readonly #byConsult = new Map<string, Warm>();
  readonly #sub: Subscription;

  constructor(
    private readonly calls: TransferCalls,
    /** The media side: hold music for the waiting caller, the two calls joined. */
    private readonly bridge: MediaBridge | undefined,
    private readonly log: Logger,
  ) {
    this.#sub = calls.events$.subscribe((e) => this.#on(e));
  }

  /** Whether a call is the consult leg of a warm transfer (the AI leaves it to the clients). */
  isConsult(callId: string): boolean {
    return this.#byConsult.has(callId);
  }

  /** Whether the caller is in a warm transfer (its agent steps aside until it fails). */
  inTransfer(callId: string): boolean {
    return this.#byCaller.has(callId);
  }

  async start(caller: string, target: string): Promise<WarmResult> {
    if (!this.calls.established(caller))
      return { ok: false, code: 'invalid_state', message: `call ${caller} is not established` };
    if (this.#byCaller.has(caller) || this.#byConsult.has(caller))
      return { ok: false, code: 'invalid_state', message: 'a transfer is already under way' };
    const checked = this.calls.checkTransfer(target);
    if (!checked.ok) return { ok: false, code: 'forbidden_target', message: checked.message };
    const w: Warm = { caller, target: checked.target, consult: undefined, state: 'dialing' };
    this.#byCaller.set(caller, w);
    this.bridge?.holdMusic(caller, true);
    const r = await this.calls.dialUri(checked.target);
    if (!r.ok) {
      this.#fail(w, r.status, r.reason);
      return { ok: false, code: 'dial_failed', message: `${r.status} ${r.reason}` };
    }
    if (this.#byCaller.get(caller) !== w) {
      this.calls.hangup(r.callId); // the caller hung up while we dialled
      return { ok: false, code: 'invalid_state', message: 'the caller hung up' };
    }
    w.consult = r.callId;
    this.#byConsult.set(r.callId, w);
    this.log.info(
      { callId: caller, consult: r.callId, target: w.target },
      'warm transfer: calling the target',
    );
    this.#announce(w, 'progress');
    return { ok: true, consultCallId: r.callId };
  }

  /** Joins the caller and the human (after the briefing); the relay stays in the media path. */
  complete(caller: string): WarmResult {
    const w = this.#byCaller.get(caller);
    if (!w) return { ok: false, code: 'invalid_state', message: 'no warm transfer on this call' };
    if (w.state !== 'consulting' || !w.consult)
      return { ok: false, code: 'invalid_state', message: `the transfer is ${w.state}, not consulting` };
    // best: the caller calls the target itself, replacing our call to it (the relay leaves both calls)
    if (this.calls.referReplacing(caller, w.consult)) {
      w.state = 'referring';
      this.log.info(
        { callId: caller, consult: w.consult },
        'warm transfer: REFER with Replaces to the caller',
      );
      return { ok: true, consultCallId: w.consult };
    }
    this.#join(w);
    return { ok: true, consultCallId: w.consult };
  }

  /** The relay joins the two calls' audio and stays in the media path. */
  #join(w: Warm): void {
    this.bridge?.holdMusic(w.caller, false);
    w.unbridge = w.consult ? this.bridge?.bridge(w.caller, w.consult) : undefined;
    w.state = 'bridged';
    this.log.info({ callId: w.caller, consult: w.consult }, 'warm transfer: caller and target joined');
    this.#announce(w, 'completed');
  }

  /** Gives up a transfer not yet completed: the consult call is hung up, the caller gets its agent back. */
  cancel(caller: string): WarmResult {
    const w = this.#byCaller.get(caller);
    if (!w || w.state === 'bridged')
      return { ok: false, code: 'invalid_state', message: 'no transfer to cancel' };
    if (w.consult) this.calls.hangup(w.consult);
    this.#fail(w, 487, 'cancelled');
    return { ok: true };
  }

  close(): void {
    this.#sub.unsubscribe();
  }

  #on(e: CallEvent): void {
    const asConsult = this.#byConsult.get(e.callId);
    if (asConsult) {
      if (e.type === 'call.answered' && asConsult.state === 'dialing') {
        asConsult.state = 'consulting';
        this.#announce(asConsult, 'consulting');
      } else if (e.type === 'call.failed') this.#fail(asConsult, e.status, e.reason);
      else if (e.type === 'call.ended') {
        if (asConsult.state === 'referring') return; // replaced by the caller's own call to the target
        if (asConsult.state === 'bridged') this.#end(asConsult, asConsult.caller);
        else this.#fail(asConsult, e.status ?? 480, 'the target hung up before the transfer completed');
      }
      return;
    }
    const asCaller = this.#byCaller.get(e.callId);
    if (!asCaller) return;
    if (asCaller.state === 'referring' && e.type === 'call.transfer' && e.mode === undefined) {
      // the REFER's outcome: the caller reached the target (our calls to both end), or we bridge after all
      if (e.status === 'completed') {
        this.#forget(asCaller);
        this.bridge?.holdMusic(asCaller.caller, false);
        this.#announce(asCaller, 'completed');
      } else if (e.status === 'failed') this.#join(asCaller);
      return;
    }
    if (e.type === 'call.ended')
      this.#end(asCaller, asCaller.state === 'referring' ? undefined : asCaller.consult);
  }

  /** One side of a joined (or pending) transfer ended: the other is hung up, the pair forgotten. */
  #end(w: Warm, other: string | undefined): void {
    this.#forget(w);
    w.unbridge?.();
    if (other) this.calls.hangup(other);
  }

  #fail(w: Warm, code: number, reason: string): void {
    if (this.#byCaller.get(w.caller) !== w) return;
    this.#forget(w);
    this.bridge?.holdMusic(w.caller, false);
    this.log.info({ callId: w.caller, code, reason }, 'warm transfer failed: the caller stays');
    this.#announce(w, 'failed', code, reason);
  }

  #forget(w: Warm): void {
    this.#byCaller.delete(w.caller);
    if (w.consult) this.#byConsult.delete(w.consult);
  }

  #announce(
    w: Warm,
    status: 'progress' | 'consulting' | 'completed' | 'failed',
    code?: number,
    reason?: string,
  ): void {
    this.calls.announce({
      type: 'call.transfer',
      callId: w.caller,
      status,
      target: w.target,
      mode: 'attended',
      ...(w.consult ? { consultCallId: w.consult } : {}),
      ...(code !== undefined ? { code } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
  }
}
