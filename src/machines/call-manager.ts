import { Subject } from 'rxjs';
import type { TransactionUser } from '../sip/core/tu.ts';
import { replacingReferTo } from '../sip/dialog/refer.ts';
import type { ParsedRequest, ParsedResponse } from '../sip/message/parse.ts';
import type { ServerTransaction } from '../sip/transaction/layer.ts';
import type { TransferCalls } from './attended-transfers.ts';
import { CallCommands } from './call-commands.ts';
import type { CallEvent } from './call-events.ts';
import type { CallManagerDeps, DialOptions, DialResult, RefusedCall } from './call-ports.ts';
import { CallRegistry } from './call-registry.ts';
import type { CallSession, SessionEnv } from './call-session.ts';
import { IncomingCalls } from './incoming-calls.ts';
import { OutboundCalls } from './outbound-calls.ts';
import { OutgoingCall } from './outgoing-call.ts';
import { PlacedCalls } from './placed-calls.ts';

export type {
  CallManagerDeps,
  DialOptions,
  DialResult,
  PortAllocator,
  RefusedCall,
  TransferResult,
} from './call-ports.ts';

/**
 * The transaction user for calls: routes each request to its dialog (Call-ID + tags), spawns one call actor
 * per new INVITE, forgets it when it ends, and offers the API clients drive (dial, answer, reject, hangup).
 */
export class CallManager extends CallCommands implements TransactionUser {
  readonly events$ = new Subject<CallEvent>();
  readonly #deps: CallManagerDeps;
  readonly #env: SessionEnv;
  readonly #incoming: IncomingCalls;
  readonly #placed: PlacedCalls;

  constructor(deps: CallManagerDeps) {
    const registry = new CallRegistry();
    // every call out passes its policy (deny list, trunks and their limits, transfer targets)
    const out = new OutboundCalls({
      log: deps.log,
      upstream: deps.upstream,
      transferTargets: deps.transferTargets,
      outgoingPlan: deps.outgoingPlan,
      contactUser: deps.settings.contactUser,
      outbound: deps.outbound,
      outboundTarget: deps.outboundTarget,
      liveCallsOut: (trunk) => registry.outThrough(trunk),
    });
    super(registry, out, deps.log);
    this.#deps = deps;
    this.#env = {
      get core() {
        return deps.core();
      },
      clock: deps.clock,
      timers: deps.timers,
      settings: deps.settings,
      log: deps.log,
      emit: (e) => {
        if (e.type === 'call.answered' || e.type === 'call.ended') this.#incoming.settingUp.done(e.callId);
        this.events$.next(e);
      },
      registerDialog: (s) => this.calls.addDialog(s),
      ended: (s) => void this.#forget(s),
      referredCalls: {
        resolve: (target) => this.out.resolve(target),
        call: (target, referredBy, progress) => this.#placed.callReferred(target, referredBy, progress),
      },
      ...(deps.inspect ? { inspect: deps.inspect } : {}),
    };
    this.#incoming = new IncomingCalls(deps, this.calls, this.#env);
    this.#placed = new PlacedCalls(deps, this.calls, this.#env, this.out, this.events$);
  }

  /** INVITEs refused before they became calls (no route, a trunk's sources, limits, no common codec). */
  get refused$(): Subject<RefusedCall> {
    return this.#incoming.refused$;
  }

  /** A call we place, before any of its events (records and status callbacks start it here). */
  get placed$(): Subject<{ readonly callId: string }> {
    return this.#placed.placed$;
  }

  /** INVITEs refused because their source is none of ours (SIP_ALLOWED_SOURCES, trunks' sources). */
  get strangersRefused(): number {
    return this.#incoming.strangersRefused;
  }

  /**
   * Places a call to `number`: through its trunk (named, or by prefix; the routes file's), else through the
   * upstream server. The deny list and the trunk's limits apply to every call out, whoever asks.
   */
  dial(number: string, opts: DialOptions = {}): Promise<DialResult> {
    return this.#placed.dial(number, opts);
  }

  /** Calls a transfer target (a warm transfer's consult call). */
  dialUri(target: string): Promise<DialResult> {
    return this.#placed.dialUri(target);
  }

  /**
   * What a warm transfer needs of the calls (machines/attended-transfers.ts, which the relay makes with the
   * media side's bridge): the consult call placed, the caller referred with Replaces, the events.
   */
  transferCalls(): TransferCalls {
    return {
      events$: this.events$,
      checkTransfer: (t) => this.checkTransfer(t),
      dialUri: (t) => this.dialUri(t),
      hangup: (id) => this.hangup(id),
      announce: (e) => this.announce(e),
      established: (id) => this.calls.get(id)?.state === 'established',
      referReplacing: (caller, consult) => {
        const a = this.calls.get(caller);
        const b = this.calls.get(consult);
        if (!a?.peerTakesRefer || !b?.peerTakesReplaces || !b.dialog) return false;
        if (!a.in({ established: { transfer: 'active' } })) return false;
        a.send({ type: 'client.transfer', target: replacingReferTo(b.dialog.remoteTarget, b.dialog) });
        return true;
      },
    };
  }

  /** A call event from outside the calls themselves (a warm transfer's progress): to every listener. */
  announce(e: CallEvent): void {
    this.events$.next(e);
  }

  // --- TransactionUser -------------------------------------------------------------------------------

  onRequest(req: ParsedRequest, tx: ServerTransaction): void {
    const core = this.#deps.core();
    if (req.toTag === undefined) {
      if (req.msg.method === 'INVITE') {
        this.#incoming.take(req, tx).catch((e: unknown) => {
          this.#deps.log.error(
            { callId: req.callId, err: e instanceof Error ? e.stack : String(e) },
            'incoming call failed',
          );
          if (tx.state === 'proceeding') core.respond(tx, 500);
        });
        return;
      }
      // RFC 3261 12.2.2 / 8.2: a BYE or INFO outside any dialog
      core.respond(tx, 481);
      return;
    }
    const session = this.calls.inDialog(req.callId, req.toTag, req.fromTag ?? '');
    if (!session) {
      core.respond(tx, 481);
      return;
    }
    session.onInDialogRequest(req, tx);
  }

  onCancel(invite: ServerTransaction): void {
    const call = this.calls.byInvite(invite.key);
    if (call) call.onCancel();
    else this.#deps.core().respond(invite, 487); // still binding ports, or never became a call
  }

  onAck(ack: ParsedRequest): void {
    const session = this.calls.inDialog(ack.callId, ack.toTag ?? '', ack.fromTag ?? '');
    session?.onAck(ack);
  }

  onStrayResponse(res: ParsedResponse): void {
    // a 2xx retransmitted after the INVITE transaction ended: ACK it again (RFC 3261 13.2.2.4)
    if (res.msg.status < 200 || res.msg.status >= 300 || res.cseq.method !== 'INVITE') return;
    const session = this.calls.inDialog(res.callId, res.fromTag ?? '', res.toTag ?? '');
    if (session instanceof OutgoingCall) session.onResponse(res);
  }

  /** Stops taking calls, hangs up every call and waits (bounded) until they are gone. */
  async shutdown(timeoutMs = 3000): Promise<void> {
    this.calls.accepting = false;
    for (const c of this.calls.values()) c.send({ type: 'client.hangup' });
    // wait for the last call's end (its BYE answered), the deadline or hurry(), whichever comes first
    if (this.calls.size > 0 && !this.#hurry && timeoutMs > 0)
      await new Promise<void>((resolve) => {
        const timer = this.#deps.clock.setTimeout(() => this.#wake(), timeoutMs);
        this.#wake = () => {
          this.#wake = () => {};
          this.#deps.clock.clearTimeout(timer);
          resolve();
        };
      });
    for (const c of [...this.calls.values()]) {
      c.stop();
      await this.#forget(c);
    }
  }

  #hurry = false;
  /** Ends the shutdown's wait (the last call ended, the deadline passed, or hurry()). */
  #wake: () => void = () => {};
  /** During shutdown: stop waiting for the BYEs' answers (they have been sent already). */
  hurry(): void {
    this.#hurry = true;
    this.#wake();
  }

  async #forget(s: CallSession): Promise<void> {
    if (!this.calls.remove(s)) return;
    if (this.calls.size === 0) this.#wake();
    this.#incoming.settingUp.done(s.callId);
    await this.#deps.ports.release(s.callId);
  }
}
