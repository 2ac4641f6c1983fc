import type { Logger } from '../kernel/logger.ts';
import type { CallPlan } from '../routing/plan.ts';
import type { TransferResult } from './call-ports.ts';
import type { CallRegistry } from './call-registry.ts';
import type { CallSession } from './call-session.ts';
import type { OutboundCalls } from './outbound-calls.ts';

/**
 * What clients (the WebSocket protocols, REST, the AI's tools, the media side) ask of the live calls:
 * answer, reject, hold, transfer, hang up, a key pressed, who is on a call and what its route decided.
 * Each command is checked against the call's state here and carried out by its actor; io's call control
 * and the legacy protocol turn their messages into these.
 */
export class CallCommands {
  constructor(
    protected readonly calls: CallRegistry,
    protected readonly out: OutboundCalls,
    protected readonly log: Logger,
  ) {}

  /** Live calls (tests and metrics). */
  get size(): number {
    return this.calls.size;
  }

  get dialogs(): number {
    return this.calls.dialogs;
  }

  list(): Array<{ callId: string; direction: string; state: string }> {
    return [...this.calls.values()].map((c) => ({
      callId: c.callId,
      direction: c.direction,
      state: c.state,
    }));
  }

  call(callId: string): CallSession | undefined {
    return this.calls.get(callId);
  }

  answer(callId: string): boolean {
    return this.#sendIf(callId, 'ringing.alerting', { type: 'client.answer' });
  }

  /** Who calls whom on a live call (From, and To or the Request-URI), and which way. */
  parties(callId: string): { from: string; to: string; direction: 'incoming' | 'outgoing' } | undefined {
    const c = this.calls.get(callId);
    return c && { ...c.parties, direction: c.direction };
  }

  /** What an incoming call's route decided (undefined for calls out and unknown calls). */
  plan(callId: string): CallPlan | undefined {
    return this.calls.get(callId)?.plan;
  }

  /** The early media's greeting has been played: with AUTO_ANSWER the call is answered now. */
  earlyMediaPlayed(callId: string): void {
    if (this.calls.get(callId)?.plan?.autoAnswer) this.answer(callId);
  }

  reject(callId: string, status = 486): boolean {
    return this.#sendIf(callId, 'ringing.alerting', { type: 'client.reject', status });
  }

  /** A key pressed on the phone (RTP telephone-event): the call reports it while it is up. */
  dtmf(callId: string, digit: string): void {
    this.calls.get(callId)?.send({ type: 'media.dtmf', digit });
  }

  /** Whether `target` may be transferred to (TRANSFER_ALLOWED_TARGETS), without doing it. */
  checkTransfer(target: string): { ok: true; target: string } | { ok: false; message: string } {
    const r = this.out.resolve(target);
    if (r.ok) return { ok: true, target: r.value.text };
    this.log.warn({ target: target.slice(0, 200), why: r.error.message }, 'transfer target refused');
    return { ok: false, message: r.error.message };
  }

  /**
   * Blind transfer of an established call to `target` (a number at the upstream server, or a SIP URI): the
   * target must be in TRANSFER_ALLOWED_TARGETS; the outcome comes as `call.transfer` events.
   */
  transfer(callId: string, target: string): TransferResult {
    const call = this.calls.get(callId);
    if (!call) return { ok: false, code: 'unknown_call', message: `no call ${callId}` };
    const resolved = this.out.resolve(target);
    if (!resolved.ok) {
      this.log.warn(
        { callId, target: target.slice(0, 200), why: resolved.error.message },
        'transfer refused',
      );
      return { ok: false, ...resolved.error };
    }
    if (!call.in({ established: { transfer: 'active' } })) {
      const message =
        call.state === 'established'
          ? 'a transfer is already under way'
          : `call is ${call.state}, not established`;
      return { ok: false, code: 'invalid_state', message };
    }
    this.log.info({ callId, target: resolved.value.text }, `transfer: REFER -> ${resolved.value.text}`);
    call.send({ type: 'client.transfer', target: resolved.value.text });
    return { ok: true, target: resolved.value.text };
  }

  /**
   * Puts an established call on hold (re-INVITE with a=sendonly, RFC 3264 8.4) or takes it off; the outcome
   * comes as a `call.hold` event. An error when the call is not in a state to do it.
   */
  hold(
    callId: string,
    on: boolean,
  ): { ok: true } | { ok: false; code: 'unknown_call' | 'invalid_state'; message: string } {
    const call = this.calls.get(callId);
    if (!call) return { ok: false, code: 'unknown_call', message: `no call ${callId}` };
    const from = on ? 'unheld' : 'held';
    if (!call.in({ established: { hold: from } }))
      return {
        ok: false,
        code: 'invalid_state',
        message:
          call.state === 'established'
            ? `the call is not ${on ? 'active' : 'on hold'}`
            : `call is ${call.state}`,
      };
    call.send({ type: on ? 'client.hold' : 'client.resume' });
    return { ok: true };
  }

  /** Hangs up a call (`reason` rtp-timeout: the media watchdog's, not a client's). */
  hangup(callId: string, reason?: 'rtp-timeout'): boolean {
    const call = this.calls.get(callId);
    if (!call || call.done) return false;
    call.send(reason ? { type: 'client.hangup', reason } : { type: 'client.hangup' });
    return true;
  }

  #sendIf(callId: string, state: string, event: Parameters<CallSession['send']>[0]): boolean {
    const call = this.calls.get(callId);
    if (!call || call.state !== state) return false;
    call.send(event);
    return true;
  }
}
