import type { ParsedRequest, ParsedResponse } from '../message/parse.ts';
import { isRequest, parseMessage } from '../message/parse.ts';
import { serialize } from '../message/serialize.ts';
import type { SipMessage, SipRequest, SipResponse } from '../message/types.ts';
import { isReliable, type TransportName } from '../transport/transport.ts';
import { type Clock, TimerSet } from './clock.ts';
import { compactRequest, compactResponse, fresh, messageSize } from './compact.ts';
import type { TxEffect } from './effects.ts';
import { type IctState, ictReduce, ictStart } from './ict.ts';
import { type IstState, istReduce, istStart } from './ist.ts';
import { clientKeyOfRequest, clientKeyOfResponse, mergeKey, serverKey } from './match.ts';
import { type NictState, nictReduce, nictStart } from './nict.ts';
import { type NistState, nistReduce, nistStart } from './nist.ts';
import { reliableTimers, type TimerName, type TimerTable } from './timers.ts';

export interface Destination {
  readonly host: string;
  readonly port: number;
  /** Absent: UDP. */
  readonly transport?: TransportName | undefined;
  /**
   * The connection to use, when it must be that one (a response goes back on the connection its request
   * came on, RFC 3261 18.2.2); the transport opens one to host:port when it is gone or absent.
   */
  readonly flow?: number | undefined;
}

/** The only way the transaction layer reaches the network (as in SIP.js: a tiny transport interface). */
export interface TransportPort {
  send(message: SipMessage, dest: Destination): Promise<void>;
}

export interface ClientCallbacks {
  onResponse(response: ParsedResponse): void;
  onTimeout?(): void;
  onTransportError?(): void;
  onTerminated?(): void;
}

export interface ServerCallbacks {
  /** RFC 6026: an ACK that reached an INVITE server transaction in the Accepted state. */
  onAck?(ack: ParsedRequest): void;
  /** Timer H fired: no ACK for our final non-2xx response. */
  onTimeout?(): void;
  onTransportError?(): void;
  onTerminated?(): void;
}

export interface ServerTransaction {
  readonly key: string;
  readonly request: ParsedRequest;
  readonly state: string;
  /** The last response sent through it (an INVITE transaction starts with its 100 Trying). */
  readonly lastResponse: SipResponse | undefined;
  /** Sends a response through the transaction (retransmissions are its business from then on). */
  respond(response: SipResponse): void;
}

export interface ClientTransaction {
  readonly key: string;
  readonly request: ParsedRequest;
  readonly state: string;
}

type TxState = IctState | NictState | IstState | NistState;

/** Requests larger than this are compacted once answered (compact.ts). */
const COMPACT_OVER = 4096;
type TxEvent =
  | { type: 'response'; response: ParsedResponse }
  | { type: 'request'; request: ParsedRequest }
  | { type: 'respond'; response: SipResponse }
  | { type: 'timer'; timer: TimerName }
  | { type: 'transport.error' };

interface Record {
  readonly key: string;
  state: TxState;
  readonly dest: Destination;
  /** The timer table of its transport (reliable ones have no retransmission timers). */
  readonly t: TimerTable;
  readonly timers: TimerSet<TimerName>;
  readonly client?: ClientCallbacks;
  readonly server?: ServerCallbacks;
  readonly merge?: string;
  /** Server transactions: the source IP, and about how many bytes the transaction holds for it. */
  readonly source?: string;
  cost: number;
  compacted?: boolean;
}

export interface LayerDeps {
  readonly clock: Clock;
  readonly timers: TimerTable;
  readonly transport: TransportPort;
}

/**
 * Hosts the pure transaction reducers: keeps the table, runs their effects (send, timers, callbacks) and
 * feeds them events. Holds no socket and no real timer of its own: both are injected.
 */
export class TransactionLayer {
  readonly #table = new Map<string, Record>();
  readonly #merged = new Map<string, string>();
  /** Bytes held by live server transactions, per source IP (SipCore refuses a source over its budget). */
  readonly #held = new Map<string, number>();
  readonly #deps: LayerDeps;
  readonly #reliable: TimerTable;

  constructor(deps: LayerDeps) {
    this.#deps = deps;
    this.#reliable = reliableTimers(deps.timers);
  }

  #timersFor(dest: Destination): TimerTable {
    return isReliable(dest.transport) ? this.#reliable : this.#deps.timers;
  }

  get size(): number {
    return this.#table.size;
  }

  /** Feeds a request to the server transaction it belongs to; false when it starts a new one. */
  matchRequest(req: ParsedRequest): boolean {
    const rec = this.#table.get(serverKey(req));
    if (!rec) return false;
    this.#dispatch(rec, { type: 'request', request: req });
    return true;
  }

  /** The server transaction of another method for the same request, e.g. the INVITE a CANCEL names. */
  findServer(req: ParsedRequest, method: string): ServerTransaction | undefined {
    const rec = this.#table.get(serverKey(req, method));
    return rec?.server ? this.#serverHandle(rec) : undefined;
  }

  /** RFC 3261 8.2.2.2: same From tag, Call-ID and CSeq as a live transaction, but not that transaction. */
  isMerged(req: ParsedRequest): boolean {
    if (req.toTag !== undefined) return false;
    const other = this.#merged.get(mergeKey(req));
    return other !== undefined && other !== serverKey(req) && this.#table.has(other);
  }

  /** Bytes live server transactions hold for this source IP. */
  heldBy(source: string): number {
    return this.#held.get(source) ?? 0;
  }

  createServer(
    req: ParsedRequest,
    dest: Destination,
    callbacks: ServerCallbacks = {},
    from?: { readonly source: string; readonly bytes: number },
  ): ServerTransaction {
    const key = fresh(serverKey(req));
    const t = this.#timersFor(dest);
    const [state, effects] = req.msg.method === 'INVITE' ? istStart(req, t) : nistStart(req);
    const merge = req.toTag === undefined ? fresh(mergeKey(req)) : undefined;
    const rec: Record = {
      key,
      state,
      dest,
      t,
      timers: new TimerSet(this.#deps.clock),
      server: callbacks,
      ...(merge ? { merge } : {}),
      ...(from ? { source: from.source } : {}),
      cost: 0,
    };
    const bytes = from?.bytes ?? messageSize(req.msg);
    // an ordinary request costs little to keep whole; rebuilding it (about 30 us) is for the large ones
    if (bytes <= COMPACT_OVER) rec.compacted = true;
    this.#charge(rec, bytes + 2 * key.length);
    this.#table.set(key, rec);
    if (merge) this.#merged.set(merge, key);
    // the creator handles the request itself; 'tu.request' at start is not re-delivered
    this.#run(
      rec,
      effects.filter((e) => e.type !== 'tu.request'),
    );
    return this.#serverHandle(rec);
  }

  /** Starts a client transaction for a request we built (INVITE -> ICT, others -> NICT; never ACK). */
  sendRequest(request: SipRequest, dest: Destination, callbacks: ClientCallbacks): ClientTransaction {
    const parsed = parseMessage(serialize(request));
    if (!parsed.ok || !isRequest(parsed.value)) {
      throw new Error(
        `refusing to send a malformed request: ${parsed.ok ? 'not a request' : parsed.error.reason}`,
      );
    }
    const req = parsed.value;
    const key = clientKeyOfRequest(req);
    const t = this.#timersFor(dest);
    const [state, effects] = request.method === 'INVITE' ? ictStart(req, t) : nictStart(req, t);
    const rec: Record = {
      key,
      state,
      dest,
      t,
      timers: new TimerSet(this.#deps.clock),
      client: callbacks,
      cost: 0,
    };
    this.#table.set(key, rec);
    this.#run(rec, effects);
    return {
      key,
      request: req,
      get state() {
        return rec.state.state;
      },
    };
  }

  /** Feeds a response to its client transaction; false when none matches (the caller decides). */
  receiveResponse(res: ParsedResponse): boolean {
    const key = clientKeyOfResponse(res);
    const rec = key === undefined ? undefined : this.#table.get(key);
    if (!rec?.client) return false;
    this.#dispatch(rec, { type: 'response', response: res });
    return true;
  }

  /** Stops every timer and forgets every transaction (shutdown). */
  close(): void {
    for (const rec of this.#table.values()) rec.timers.clearAll();
    this.#table.clear();
    this.#merged.clear();
    this.#held.clear();
  }

  #serverHandle(rec: Record): ServerTransaction {
    return {
      key: rec.key,
      request: rec.state.request,
      get state() {
        return rec.state.state;
      },
      get lastResponse() {
        const s = rec.state;
        return s.kind === 'ist' || s.kind === 'nist' ? s.lastResponse : undefined;
      },
      respond: (response) => this.#dispatch(rec, { type: 'respond', response }),
    };
  }

  #dispatch(rec: Record, event: TxEvent): void {
    if (this.#table.get(rec.key) !== rec) return; // already terminated
    const t = rec.t;
    const s = rec.state;
    let step: readonly [TxState, readonly TxEffect[]];
    switch (s.kind) {
      case 'ict':
        if (event.type !== 'response' && event.type !== 'timer' && event.type !== 'transport.error') return;
        step = ictReduce(s, event as Parameters<typeof ictReduce>[1], t);
        break;
      case 'nict':
        if (event.type !== 'response' && event.type !== 'timer' && event.type !== 'transport.error') return;
        step = nictReduce(s, event as Parameters<typeof nictReduce>[1], t);
        break;
      case 'ist':
        if (event.type === 'response') return;
        step = istReduce(s, event as Parameters<typeof istReduce>[1], t);
        break;
      case 'nist':
        if (event.type === 'response') return;
        step = nistReduce(s, event as Parameters<typeof nistReduce>[1], t);
        break;
    }
    rec.state = step[0];
    this.#run(rec, step[1]);
    if (!rec.compacted && rec.server && this.#table.get(rec.key) === rec) this.#compact(rec);
  }

  /** Once the final response is out, a server transaction keeps only what it still needs (compact.ts). */
  #compact(rec: Record): void {
    const s = rec.state;
    if ((s.kind !== 'ist' && s.kind !== 'nist') || !s.lastResponse || s.lastResponse.status < 200) return;
    const request = compactRequest(s.request);
    const lastResponse = compactResponse(s.lastResponse);
    rec.state = { ...s, request, lastResponse };
    rec.compacted = true;
    this.#charge(rec, messageSize(request.msg) + messageSize(lastResponse) + 2 * rec.key.length);
  }

  /** Sets what a server transaction holds for its source. */
  #charge(rec: Record, cost: number): void {
    if (rec.source === undefined) return;
    const total = (this.#held.get(rec.source) ?? 0) - rec.cost + cost;
    rec.cost = cost;
    if (total <= 0) this.#held.delete(rec.source);
    else this.#held.set(rec.source, total);
  }

  #run(rec: Record, effects: readonly TxEffect[]): void {
    const { transport } = this.#deps;
    for (const e of effects) {
      switch (e.type) {
        case 'send':
          transport.send(e.message, rec.dest).catch(() => this.#dispatch(rec, { type: 'transport.error' }));
          break;
        case 'timer.start': {
          const timer = e.timer;
          rec.timers.set(timer, e.ms, () => this.#dispatch(rec, { type: 'timer', timer }));
          break;
        }
        case 'timer.stop':
          rec.timers.clear(e.timer);
          break;
        case 'tu.response':
          rec.client?.onResponse(e.response);
          break;
        case 'tu.request':
          rec.server?.onAck?.(e.request);
          break;
        case 'tu.timeout':
          (rec.client ?? rec.server)?.onTimeout?.();
          break;
        case 'tu.transport-error':
          (rec.client ?? rec.server)?.onTransportError?.();
          break;
        case 'terminated':
          rec.timers.clearAll();
          this.#table.delete(rec.key);
          this.#charge(rec, 0);
          if (rec.merge && this.#merged.get(rec.merge) === rec.key) this.#merged.delete(rec.merge);
          (rec.client ?? rec.server)?.onTerminated?.();
          break;
      }
    }
  }
}
