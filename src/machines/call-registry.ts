import { dialogKey } from '../sip/dialog/dialog.ts';
import type { CallSession } from './call-session.ts';
import { IncomingCall } from './incoming-call.ts';

/**
 * The live calls, found by Call-ID, by dialog (Call-ID and tags) and by INVITE transaction, and what counts
 * against MAX_CALLS: the live calls and those being set up (routed, ports being bound).
 */
export class CallRegistry {
  readonly #calls = new Map<string, CallSession>();
  readonly #byDialog = new Map<string, CallSession>();
  readonly #byInviteTx = new Map<string, IncomingCall>();
  /** Calls being set up (routed, ports being bound): they count against MAX_CALLS. */
  pending = 0;
  /** Call-IDs of incoming calls being routed or bound (not live yet, but taken). */
  readonly binding = new Set<string>();
  /** False once the relay shuts down: no new call in or out. */
  accepting = true;

  get size(): number {
    return this.#calls.size;
  }

  get dialogs(): number {
    return this.#byDialog.size;
  }

  /** What counts against MAX_CALLS. */
  get live(): number {
    return this.#calls.size + this.pending;
  }

  get(callId: string): CallSession | undefined {
    return this.#calls.get(callId);
  }

  /** The Call-ID is a live call's, or one being set up. */
  taken(callId: string): boolean {
    return this.#calls.has(callId) || this.binding.has(callId);
  }

  values(): IterableIterator<CallSession> {
    return this.#calls.values();
  }

  add(call: CallSession): void {
    this.#calls.set(call.callId, call);
    if (call instanceof IncomingCall) this.#byInviteTx.set(call.inviteTxKey, call);
  }

  /** The call's dialog exists (its first 2xx or 1xx with a To tag). */
  addDialog(s: CallSession): void {
    if (s.dialog) this.#byDialog.set(dialogKey(s.dialog.callId, s.dialog.localTag, s.dialog.remoteTag), s);
  }

  /** The call of an in-dialog request or ACK (RFC 3261 12.2.2: Call-ID, local and remote tag). */
  inDialog(callId: string, localTag: string, remoteTag: string): CallSession | undefined {
    return this.#byDialog.get(dialogKey(callId, localTag, remoteTag));
  }

  /** The incoming call of an INVITE server transaction (its CANCEL). */
  byInvite(txKey: string): IncomingCall | undefined {
    return this.#byInviteTx.get(txKey);
  }

  /** Takes a call out of every index; false when it was not (or no longer) the live call of its Call-ID. */
  remove(s: CallSession): boolean {
    if (this.#calls.get(s.callId) !== s) return false;
    this.#calls.delete(s.callId);
    if (s.dialog) this.#byDialog.delete(dialogKey(s.dialog.callId, s.dialog.localTag, s.dialog.remoteTag));
    if (s instanceof IncomingCall) this.#byInviteTx.delete(s.inviteTxKey);
    return true;
  }

  /** Live calls out through a trunk (its maxCalls). */
  outThrough(trunk: string): number {
    let n = 0;
    for (const c of this.#calls.values()) if (c.direction === 'outgoing' && c.plan?.trunk === trunk) n++;
    return n;
  }
}
