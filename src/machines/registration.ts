import { type Actor, createActor, type InspectionEvent } from 'xstate';
import type { Logger } from '../kernel/logger.ts';
import { answerChallenge } from '../sip/auth/answer.ts';
import type { SipCore } from '../sip/core/sip-core.ts';
import { grantedExpires, registerRequest, registrarUri } from '../sip/dialog/register.ts';
import { newBranch, newCallId, newTag } from '../sip/message/ids.ts';
import type { ParsedResponse } from '../sip/message/parse.ts';
import { type Clock, TimerSet } from '../sip/transaction/clock.ts';
import type { TransportName } from '../sip/transport/transport.ts';
import { refreshDelayMs, registrationMachine, retryDelayMs } from './registration.machine.ts';

export interface RegistrationSettings {
  /** Registrar: SIP_SERVER_IP:SIP_TRANSFER_PORT. */
  readonly registrar: { readonly host: string; readonly port: number; readonly transport?: TransportName };
  /** Address-of-record, e.g. sip:1001@pbx.example.com. */
  readonly aor: string;
  readonly expires: number;
  readonly credentials?: { readonly username: string; readonly password: string };
  /** First retry delay (ms); doubles per failure. */
  readonly retryBaseMs?: number;
}

export interface RegistrationDeps {
  readonly core: SipCore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly settings: RegistrationSettings;
  readonly contactUser: string;
  readonly inspect?: (event: InspectionEvent, callId: string) => void;
}

/**
 * Keeps the relay registered at the upstream server so it delivers calls to us: REGISTER with digest
 * credentials (one retry per challenge), refresh before expiry, backoff on failure, unREGISTER on stop.
 */
export class Registration {
  readonly actor: Actor<typeof registrationMachine>;
  readonly #d: RegistrationDeps;
  readonly #callId: string;
  readonly #tag = newTag();
  #cseq = 0;
  readonly #timers: TimerSet;
  #status: 'registered' | 'failed' | 'unregistered' | 'pending' = 'pending';

  constructor(deps: RegistrationDeps) {
    this.#d = deps;
    this.#timers = new TimerSet(deps.clock);
    this.#callId = newCallId(deps.core.local.host);
    const machine = registrationMachine.provide({
      actions: {
        sendRegister: () => this.#register(deps.settings.expires, false),
        sendUnregister: () => this.#register(0, false),
        scheduleRefresh: (_, p) => this.#schedule(refreshDelayMs(p.expires), 'timer.refresh'),
        scheduleRetry: (_, p) =>
          this.#schedule(retryDelayMs(p.failures, deps.settings.retryBaseMs), 'timer.retry'),
        cancelTimers: () => this.#cancel(),
        report: (_, p) => {
          this.#status = p.state;
          const ctx = this.actor.getSnapshot().context;
          deps.log.info(
            { registrar: deps.settings.registrar, expires: ctx.expires, status: ctx.lastStatus },
            `registration ${p.state}`,
          );
        },
      },
    });
    const inspect = deps.inspect;
    this.actor = createActor(
      machine,
      inspect ? { inspect: (e: InspectionEvent) => inspect(e, 'registration') } : {},
    );
  }

  get status(): string {
    return this.#status;
  }

  start(): void {
    this.actor.start();
    this.actor.send({ type: 'reg.start' });
  }

  /**
   * The connection the registration went over failed (RFC 5626 4.4.1: no pong): registered, it is
   * refreshed now over a new one, so the registrar can reach us again without waiting for the refresh.
   */
  flowFailed(): void {
    if (this.#status === 'registered') this.actor.send({ type: 'timer.refresh' });
  }

  /** unREGISTERs (when registered) and resolves once done, or after `timeoutMs`. */
  async stop(timeoutMs = 3000): Promise<void> {
    if (this.actor.getSnapshot().status === 'done') return;
    const done = new Promise<void>((resolve) => {
      const sub = this.actor.subscribe({ complete: () => resolve() });
      this.#d.clock.setTimeout(() => {
        sub.unsubscribe();
        resolve();
      }, timeoutMs);
    });
    this.actor.send({ type: 'reg.stop' });
    await done;
    this.#cancel();
    this.actor.stop();
  }

  /** Refresh or retry: one timer at a time. */
  #schedule(ms: number, type: 'timer.refresh' | 'timer.retry'): void {
    this.#timers.set('next', ms, () => this.actor.send({ type }));
  }

  #cancel(): void {
    this.#timers.clearAll();
  }

  /** RFC 3261 10.2: same Call-ID for every REGISTER to this registrar, CSeq up by one each time. */
  #register(expires: number, withAuth: false | readonly [string, string]): void {
    const { core, settings } = this.#d;
    const reg = settings.registrar;
    const uri = registrarUri(reg);
    this.#cseq++;
    const request = registerRequest({
      registrar: reg,
      aor: settings.aor,
      contactUser: this.#d.contactUser,
      local: core.sentBy(reg.transport),
      callId: this.#callId,
      fromTag: this.#tag,
      cseq: this.#cseq,
      branch: newBranch(),
      expires,
      userAgent: core.userAgent,
      authorization: withAuth || undefined,
    });
    const done = expires === 0;
    core.sendRequest(request, reg, {
      onResponse: (r) => {
        if (r.msg.status < 200) return;
        this.#onFinal(r, expires, uri, withAuth !== false, done);
      },
      onTimeout: () => this.actor.send(done ? { type: 'unreg.done' } : { type: 'reg.failed', status: 408 }),
      onTransportError: () =>
        this.actor.send(done ? { type: 'unreg.done' } : { type: 'reg.failed', status: 503 }),
    });
  }

  #onFinal(r: ParsedResponse, expires: number, uri: string, authTried: boolean, unregister: boolean): void {
    const status = r.msg.status;
    const creds = this.#d.settings.credentials;
    const answer =
      !authTried && creds ? answerChallenge(r.msg, { method: 'REGISTER', uri }, creds) : undefined;
    if (answer) {
      this.#register(expires, answer);
      return;
    }
    if (unregister) {
      this.actor.send({ type: 'unreg.done' });
      return;
    }
    if (status >= 200 && status < 300) {
      this.actor.send({
        type: 'reg.ok',
        expires: grantedExpires(r, expires, this.#d.core.sentBy(this.#d.settings.registrar.transport).port),
      });
      return;
    }
    this.actor.send({ type: 'reg.failed', status });
  }
}
