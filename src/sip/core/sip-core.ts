import type { Logger } from '../../kernel/logger.ts';
import { buildResponse } from '../message/build.ts';
import { header, headerValues } from '../message/headers.ts';
import { newTag } from '../message/ids.ts';
import { parseNameAddr, tagOf } from '../message/name-addr.ts';
import { frame, isRequest, type ParsedRequest, type ParseError, parseMessage } from '../message/parse.ts';
import type { Header, SipRequest, SipResponse } from '../message/types.ts';
import { parseVia } from '../message/via.ts';
import type { Clock } from '../transaction/clock.ts';
import {
  type ClientCallbacks,
  type ClientTransaction,
  type Destination,
  type ServerTransaction,
  TransactionLayer,
  type TransportPort,
} from '../transaction/layer.ts';
import type { TimerTable } from '../transaction/timers.ts';
import type { TransportName } from '../transport/transport.ts';
import {
  type Address,
  isUnicast,
  replaceTopVia,
  responseDestination,
  stampVia,
} from '../transport/via-route.ts';
import type { UasPolicy } from './policy.ts';
import type { TransactionUser } from './tu.ts';
import { checkRequest } from './validate.ts';

export interface SipCoreDeps {
  readonly transport: TransportPort;
  readonly clock: Clock;
  readonly timers: TimerTable;
  readonly policy: UasPolicy;
  readonly log: Logger;
  readonly tu: TransactionUser;
  /** Subnet broadcast addresses of our interfaces: never a response target. */
  readonly broadcasts?: ReadonlySet<string>;
  /** The address our requests name in their Via (the bound socket, or SIP_PUBLIC_IP). */
  readonly local?: { readonly host: string; readonly port: number };
  /** Our sent-by per transport when it differs from `local` (TLS listens on its own port). */
  readonly listeners?: Partial<Record<TransportName, { readonly host: string; readonly port: number }>>;
  /**
   * Bytes live server transactions may hold for one source IP (SIP_SOURCE_LIMIT_MB); beyond it that
   * source's new requests get a stateless 503 until its transactions end. Unset = no limit.
   */
  readonly sourceLimitBytes?: number;
}

/** Largest datagram we parse (the UDP maximum; RFC 3261 18.1.1 allows anything that fits). */
const MAX_DATAGRAM = 65_535;

/**
 * The SIP core: one datagram in, the right thing out. Parse; answer malformed requests statelessly and drop
 * malformed responses; stamp the top Via (18.2.1, RFC 3581); match transactions (17.1.3 / 17.2.3); validate
 * new requests (8.2); answer OPTIONS and CANCEL itself; hand the rest to the transaction user.
 */
export class SipCore {
  readonly layer: TransactionLayer;
  readonly #deps: SipCoreDeps;
  #accepting = true;

  constructor(deps: SipCoreDeps) {
    this.#deps = deps;
    this.layer = new TransactionLayer({ clock: deps.clock, timers: deps.timers, transport: deps.transport });
  }

  /** After this, new requests get 503 (graceful shutdown); transactions in flight go on. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /** False once the relay is draining (stopAccepting). */
  get accepting(): boolean {
    return this.#accepting;
  }

  receive(data: Uint8Array, source: Address): void {
    const log = this.#deps.log;
    if (data.length > MAX_DATAGRAM) {
      this.#junk(source, 'datagram too large', { bytes: data.length });
      return;
    }
    const parsed = parseMessage(data);
    if (!parsed.ok) {
      this.#onParseError(parsed.error, source);
      return;
    }
    const m = { ...parsed.value, source };
    if (!isRequest(m)) {
      if (!this.layer.receiveResponse(m)) {
        if (this.#deps.tu.onStrayResponse) this.#deps.tu.onStrayResponse(m);
        else
          log.debug(
            { source, callId: m.callId, status: m.msg.status },
            'response matches no transaction, dropped',
          );
      }
      return;
    }
    this.#onRequest(m, source, data.length);
  }

  /** Sends a response through a server transaction with our Server header and a To-tag when needed. */
  respond(
    tx: ServerTransaction,
    status: number,
    opts: {
      reason?: string;
      toTag?: string;
      headers?: ReadonlyArray<readonly [string, string]>;
      body?: Uint8Array;
    } = {},
  ): SipResponse {
    const response = buildResponse(tx.request.msg, status, {
      ...opts,
      toTag: opts.toTag ?? tx.request.toTag ?? newTag(),
      headers: [...(opts.headers ?? []), ['Server', this.#deps.policy.userAgent]],
    });
    tx.respond(response);
    return response;
  }

  close(): void {
    this.layer.close();
  }

  /** Sends a message outside any transaction: the ACK for a 2xx (RFC 3261 13.2.2.4) is its own. */
  sendStateless(message: SipRequest, dest: Destination): void {
    if (!isUnicast(dest.host)) return;
    this.#deps.transport.send(message, dest).catch((error: unknown) => {
      this.#deps.log.warn({ dest, err: String(error) }, 'could not send');
    });
  }

  get userAgent(): string {
    return this.#deps.policy.userAgent;
  }

  /** The Allow header's value: the methods we act on (the policy's list, RFC 3261 20.5). */
  get allow(): string {
    return this.#deps.policy.allow.join(', ');
  }

  /** Our option tags, for the Supported header of requests and answers we send. */
  get supported(): string {
    return this.#deps.policy.supported.join(', ');
  }

  /** The sent-by our requests carry in their Via. */
  get local(): { host: string; port: number } {
    return this.#deps.local ?? { host: '127.0.0.1', port: 5060 };
  }

  /** Our sent-by for a transport, with the transport (a request's Via names it, RFC 3261 18.1.1). */
  sentBy(transport: TransportName | undefined): { host: string; port: number; transport: TransportName } {
    const t = transport ?? 'udp';
    const l = this.#deps.listeners?.[t] ?? this.local;
    return { host: l.host, port: l.port, transport: t };
  }

  /**
   * Sends a request we built through a new client transaction, from the SIP socket (so `rport` and
   * symmetric response routing work). Never for ACK: an ACK for a 2xx is its own transaction-less request.
   */
  sendRequest(request: SipRequest, dest: Destination, callbacks: ClientCallbacks): ClientTransaction {
    if (request.method === 'ACK') throw new Error('an ACK is not sent through a client transaction');
    if (!isUnicast(dest.host)) throw new Error(`refusing to send a request to ${dest.host}`);
    return this.layer.sendRequest(request, dest, callbacks);
  }

  #onRequest(received: ParsedRequest, source: Address, bytes: number): void {
    const { log, policy, tu } = this.#deps;
    const top = stampVia(received.via[0]!, source);
    const req: ParsedRequest = {
      ...received,
      via: [top, ...received.via.slice(1)],
      msg: replaceTopVia(received.msg, top),
    };
    const dest = responseDestination(top, this.#deps.broadcasts, source);
    if (!dest) {
      this.#junk(source, 'request whose response has nowhere to go (broadcast?)', { via: top.host });
      return;
    }
    if (this.layer.matchRequest(req)) return; // retransmission, or ACK of a non-2xx: the transaction has it
    if (req.msg.method === 'ACK') {
      if (tu.onAck) tu.onAck(req);
      else log.debug({ callId: req.callId }, 'ACK matches no transaction, dropped');
      return;
    }
    const limit = this.#deps.sourceLimitBytes;
    if (limit !== undefined && this.layer.heldBy(source.address) + bytes > limit) {
      this.#overLimit(req, source, dest);
      return;
    }
    const merged = this.layer.isMerged(req);
    const tx = this.layer.createServer(
      req,
      dest,
      { onAck: (ack) => tu.onAck?.(ack) },
      { source: source.address, bytes },
    );
    const clog = log.child({ callId: req.callId });
    clog.debug({ method: req.msg.method, source }, 'request');
    if (merged) {
      // RFC 3261 8.2.2.2: "the UAS core SHOULD generate a 482 (Loop Detected) response"
      this.respond(tx, 482);
      return;
    }
    if (!this.#accepting && req.toTag === undefined) {
      this.respond(tx, 503, { headers: [['Retry-After', '30']] });
      return;
    }
    const problem = checkRequest(req, policy);
    if (problem) {
      clog.info(
        { method: req.msg.method, status: problem.status, reason: problem.reason },
        'request rejected',
      );
      this.respond(tx, problem.status, {
        reason: problem.reason,
        ...(problem.replyHeaders ? { headers: problem.replyHeaders } : {}),
      });
      return;
    }
    if (req.msg.method === 'CANCEL') {
      // RFC 3261 9.2: the CANCEL matches the INVITE transaction by the 17.2.3 rules with method INVITE;
      // "If no match is found, the UAS core MUST generate a 481"; otherwise 200 for the CANCEL itself.
      const invite = this.layer.findServer(req, 'INVITE');
      if (!invite) {
        this.respond(tx, 481);
        return;
      }
      // "the To tag of the response to the CANCEL and the To tag in the response to the original request
      // SHOULD be the same": reuse the tag of the INVITE's last response when it has one
      const sent = invite.lastResponse ? parseNameAddr(header(invite.lastResponse, 'to') ?? '') : undefined;
      const inviteTag = sent?.ok ? tagOf(sent.value) : undefined;
      this.respond(tx, 200, inviteTag ? { toTag: inviteTag } : {});
      if (invite.state === 'proceeding') tu.onCancel(invite, req);
      return;
    }
    if (req.msg.method === 'OPTIONS' && req.toTag === undefined) {
      this.respond(tx, 200, { headers: this.#capabilities() });
      return;
    }
    tu.onRequest(req, tx);
  }

  /**
   * A malformed or stray packet: each at debug; at warning level the first of every minute, with how many
   * came in the minute before (a scanner or a broken peer must not flood the log, nor go unnoticed).
   */
  #junk(source: Address, what: string, extra: object = {}): void {
    const log = this.#deps.log;
    log.debug({ source, ...extra }, `dropped or rejected: ${what}`);
    const now = this.#deps.clock.now();
    if (now - this.#junkWindow < 60_000) {
      this.#junkSince++;
      return;
    }
    log.warn(
      { source, ...extra, earlier: this.#junkSince },
      `malformed or stray SIP: ${what} from ${source.address}:${source.port}` +
        (this.#junkSince > 0 ? ` (and ${this.#junkSince} more since the last warning)` : '') +
        '; more this minute at debug level',
    );
    this.#junkWindow = now;
    this.#junkSince = 0;
  }
  #junkWindow = Number.NEGATIVE_INFINITY;
  #junkSince = 0;

  #refused = 0;
  /**
   * One source holds its share of memory in live transactions (a flood of large requests, each kept until
   * Timer J): answer 503 without a transaction, keeping nothing, and warn now and then.
   */
  #overLimit(req: ParsedRequest, source: Address, dest: Destination): void {
    if (this.#refused++ % 1000 === 0)
      this.#deps.log.warn(
        { source: source.address, held: this.layer.heldBy(source.address), refused: this.#refused },
        'source over SIP_SOURCE_LIMIT_MB: its new requests get 503 until its transactions end',
      );
    const response = buildResponse(req.msg, 503, {
      reason: 'Service Unavailable (too much held for this source)',
      toTag: req.toTag ?? newTag(),
      headers: [
        ['Retry-After', '10'],
        ['Server', this.#deps.policy.userAgent],
      ],
    });
    this.#deps.transport.send(response, dest).catch(() => {});
  }

  /** RFC 3261 11.2: Allow, Accept, Accept-Encoding, Accept-Language and Supported in an OPTIONS answer. */
  #capabilities(): [string, string][] {
    const p = this.#deps.policy;
    return [
      ['Allow', p.allow.join(', ')],
      ['Accept', 'application/sdp'],
      ['Accept-Encoding', 'identity'],
      ['Accept-Language', 'en'],
      ['Supported', p.supported.join(', ')],
    ];
  }

  /**
   * A message on a stream that could not be delimited (RFC 3261 18.3: no or bad Content-Length, or too
   * large): answered statelessly from its head when it is a request with a usable Via; the connection closes
   * after (the transport's business). `head` may be partial or empty.
   */
  rejectStream(head: Uint8Array, status: number, reason: string, source: Address): void {
    const framed = frame(head);
    const headers = framed.ok ? framed.value.headers : framed.error.headers;
    const isResponse = framed.ok ? framed.value.kind === 'response' : framed.error.kind !== 'request';
    if (!headers || isResponse) {
      this.#junk(source, `undelimitable message on a stream (${reason})`);
      return;
    }
    const method =
      framed.ok && framed.value.kind === 'request'
        ? framed.value.method
        : framed.ok
          ? undefined
          : framed.error.method;
    this.#statelessReply({ headers, method, status, reason }, source);
  }

  /** Stateless answers to malformed requests (RFC 3261 8.2, 18.3); malformed responses are dropped. */
  #onParseError(e: ParseError, source: Address): void {
    if (e.kind === 'noise') return;
    if (e.kind === 'response') {
      this.#junk(source, `malformed response (${e.reason})`);
      return;
    }
    this.#statelessReply(e, source);
  }

  #statelessReply(
    e: {
      readonly headers?: readonly Header[] | undefined;
      readonly method?: string | undefined;
      readonly status: number;
      readonly reason: string;
      readonly replyHeaders?: ReadonlyArray<readonly [string, string]> | undefined;
    },
    source: Address,
  ): void {
    const log = this.#deps.log;
    const headers = e.headers;
    const cseq = headers ? (header({ headers }, 'cseq') ?? '') : '';
    if (e.method === 'ACK' || /\sACK$/.test(cseq.trim())) {
      this.#junk(source, `malformed ACK (${e.reason})`);
      return;
    }
    const topText = headers ? headerValues({ headers }, 'via')[0] : undefined;
    const top = topText === undefined ? undefined : parseVia(topText);
    if (!headers || !top?.ok) {
      this.#junk(source, `malformed request without a usable Via (${e.reason})`);
      return;
    }
    const stamped = stampVia(top.value, source);
    const dest = responseDestination(stamped, this.#deps.broadcasts, source);
    if (!dest) return;
    const fixed: { headers: readonly Header[] } = replaceTopVia({ headers }, stamped);
    const response = buildResponse(fixed, e.status, {
      reason: e.reason,
      toTag: newTag(),
      headers: [...(e.replyHeaders ?? []), ['Server', this.#deps.policy.userAgent]],
    });
    this.#junk(source, `malformed request answered ${e.status} (${e.reason})`);
    this.#deps.transport.send(response, dest).catch((error: unknown) => {
      log.warn({ dest, err: String(error) }, 'could not send stateless response');
    });
  }
}
