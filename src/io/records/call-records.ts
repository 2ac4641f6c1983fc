import { type Observable, Subject, type Subscription } from 'rxjs';
import type { AiEvent } from '../../ai/call-center.ts';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager, RefusedCall } from '../../machines/call-manager.ts';
import { estimateMos } from '../../rtp/mos.ts';
import { parseNameAddr } from '../../sip/message/name-addr.ts';
import { parseUri, uriUser } from '../../sip/message/uri.ts';
import type { MediaManager } from '../media/media-manager.ts';
import type { MediaReport } from '../media/media-types.ts';

/** What call records read of the calls (a narrow port: the call manager provides it). */
export type RecordedCalls = Pick<CallManager, 'events$' | 'parties' | 'placed$' | 'refused$'>;

/** Transcript lines kept per call (the oldest go first), and the longest line kept. */
export const MAX_TRANSCRIPT_LINES = 200;
const MAX_LINE_CHARS = 2000;
/** How long a record waits for its recording to be on disk before it is written anyway. */
const SAVE_WAIT_MS = 10_000;

/**
 * One ended call: the CDR line (CDR_FILE) and the body of the status callback `call.ended`. An INVITE
 * refused before it became a call (no route, a source outside the trunks, limits, no common codec) has one
 * too, with `endReason` `refused` and its status.
 */
export interface CallRecord {
  readonly callId: string;
  readonly direction: 'incoming' | 'outgoing';
  /** The caller's and the called number (URI users), and the URIs they came from. */
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly fromUri: string;
  readonly toUri: string;
  readonly trunk: string | undefined;
  readonly route: string | undefined;
  /** ISO 8601 times: set up, answered (null: never), ended. */
  readonly start: string;
  readonly answer: string | null;
  readonly end: string;
  /** Seconds from start to end, and of talk (answer to end). */
  readonly durationS: number;
  readonly talkS: number;
  readonly endReason: string;
  readonly status: number | undefined;
  readonly codec: string | undefined;
  readonly rtp: Omit<MediaReport, 'firstHeardMs'> | undefined;
  /** E-model estimate (ITU-T G.107) from loss, RTT and the jitter buffer; undefined without media. */
  readonly mos: number | undefined;
  readonly recording: string | undefined;
  /** Transfers asked of or by this call, with how each ended. */
  readonly transfers: ReadonlyArray<{
    readonly target: string;
    readonly status: string;
    readonly code?: number;
  }>;
  readonly ai:
    | {
        readonly turns: number;
        /** Per answered turn: ms after the caller stopped, by stage (stt.done, llm.first_token, ...). */
        readonly latency: ReadonlyArray<Readonly<Record<string, number>>>;
        readonly transcript: ReadonlyArray<{ readonly who: 'caller' | 'agent'; readonly text: string }>;
      }
    | undefined;
}

/** The clocks a record reads: the wall clock for its timestamps, the monotonic one for its durations. */
export interface RecordClock {
  wall(): number;
  mono(): number;
}

/** One moment on both clocks. */
interface Moment {
  readonly wall: number;
  readonly mono: number;
}

interface Draft {
  callId: string;
  direction?: 'incoming' | 'outgoing';
  fromUri?: string;
  toUri?: string;
  trunk?: string | undefined;
  route?: string | undefined;
  /** Wall-clock times (epoch ms) for the record's timestamps. */
  start: number;
  answer?: number;
  /** The same moments on the monotonic clock, for its durations: an NTP step mid-call must not enter them. */
  startMono: number;
  answerMono?: number;
  codec?: string;
  media?: MediaReport & { recording: string | undefined };
  transfers: Array<{ target: string; status: string; code?: number }>;
  latency: Array<Record<string, number>>;
  transcript: Array<{ who: 'caller' | 'agent'; text: string }>;
}

/** A From/To value's or URI's user (the number), if it has one. */
function userOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const na = parseNameAddr(value);
  if (na.ok) return uriUser(na.value.uri);
  const u = parseUri(value);
  return u.ok ? uriUser(u.value) : undefined;
}

/**
 * Follows every call from its start to its end (call events, its media's figures, its recording, its AI
 * conversation) and publishes one CallRecord per ended call on `records$`, once its recording is on disk.
 * Memory: one draft per live call, its transcript bounded (MAX_TRANSCRIPT_LINES lines of at most 2,000
 * characters).
 */
export class CallRecords {
  readonly records$ = new Subject<CallRecord>();
  readonly #drafts = new Map<string, Draft>();
  /** Ended calls waiting for their recording to be saved. */
  readonly #waiting = new Map<
    string,
    { draft: Draft; e: Extract<CallEvent, { type: 'call.ended' }>; at: Moment; timer: NodeJS.Timeout }
  >();
  readonly #sub: Subscription;

  constructor(
    private readonly calls: RecordedCalls,
    media: MediaManager,
    ai$: Observable<AiEvent> | undefined,
    private readonly quality: { readonly bufferMs: number },
    private readonly clock: RecordClock = { wall: Date.now, mono: () => performance.now() },
  ) {
    this.#sub = calls.placed$.subscribe((p) => this.#draft(p.callId));
    this.#sub.add(
      media.ended$.subscribe((r) => {
        const d = this.#drafts.get(r.callId);
        if (d) d.media = r;
      }),
    );
    this.#sub.add(media.saved$.subscribe((s) => this.#saved(s.callId, s.recording)));
    this.#sub.add(calls.events$.subscribe((e) => this.#onCall(e)));
    this.#sub.add(calls.refused$.subscribe((r) => this.records$.next(this.#refused(r))));
    if (ai$) this.#sub.add(ai$.subscribe((e) => this.#onAi(e)));
  }

  /** Calls followed now (tests, metrics). */
  get live(): number {
    return this.#drafts.size;
  }

  /** A live call's start and answer times (epoch ms). */
  times(callId: string): { start: number; answer: number | undefined } | undefined {
    const d = this.#drafts.get(callId);
    return d && { start: d.start, answer: d.answer };
  }

  close(): void {
    this.#sub.unsubscribe();
    // calls still waiting for their recording: written as they are
    for (const [id, w] of this.#waiting) {
      clearTimeout(w.timer);
      this.#waiting.delete(id);
      this.records$.next(this.#record(w.draft, w.e, w.at, w.draft.media?.recording));
    }
    this.records$.complete();
  }

  #now(): Moment {
    return { wall: this.clock.wall(), mono: this.clock.mono() };
  }

  #draft(callId: string): Draft {
    let d = this.#drafts.get(callId);
    if (!d) {
      const now = this.#now();
      d = { callId, start: now.wall, startMono: now.mono, transfers: [], latency: [], transcript: [] };
      const parties = this.calls.parties(callId);
      if (parties) {
        d.direction = parties.direction;
        d.fromUri = parties.from;
        d.toUri = parties.to;
      }
      this.#drafts.set(callId, d);
    }
    return d;
  }

  #onCall(e: CallEvent): void {
    switch (e.type) {
      case 'call.incoming': {
        const d = this.#draft(e.callId);
        d.direction = 'incoming';
        d.fromUri = e.from;
        d.toUri = e.to;
        d.trunk = e.trunk;
        d.route = e.route;
        return;
      }
      case 'call.media':
        this.#draft(e.callId).codec = e.codec;
        return;
      case 'call.answered': {
        const d = this.#draft(e.callId);
        if (d.answer !== undefined) return;
        const now = this.#now();
        d.answer = now.wall;
        d.answerMono = now.mono;
        return;
      }
      case 'call.transfer':
      case 'call.referred': {
        if (e.status !== 'completed' && e.status !== 'failed') return;
        this.#draft(e.callId).transfers.push({
          target: e.target,
          status: `${e.type === 'call.referred' ? 'referred ' : ''}${e.status}`,
          ...(e.code !== undefined ? { code: e.code } : {}),
        });
        return;
      }
      case 'call.ended': {
        const d = this.#drafts.get(e.callId) ?? this.#draft(e.callId);
        this.#drafts.delete(e.callId);
        const at = this.#now();
        // a recording is finalised after the call: the record waits for it (bounded)
        if (d.media?.recording) {
          const timer = setTimeout(() => this.#saved(e.callId, d.media?.recording), SAVE_WAIT_MS);
          timer.unref?.();
          this.#waiting.set(e.callId, { draft: d, e, at, timer });
          return;
        }
        this.records$.next(this.#record(d, e, at, undefined));
        return;
      }
      default:
    }
  }

  #saved(callId: string, recording: string | undefined): void {
    const w = this.#waiting.get(callId);
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiting.delete(callId);
    this.records$.next(this.#record(w.draft, w.e, w.at, recording));
  }

  #onAi(e: AiEvent): void {
    const d = this.#drafts.get(e.callId);
    if (!d) return;
    const line = (who: 'caller' | 'agent', text: string) => {
      d.transcript.push({ who, text: text.slice(0, MAX_LINE_CHARS) });
      if (d.transcript.length > MAX_TRANSCRIPT_LINES) d.transcript.shift();
    };
    if (e.type === 'ai.transcript') line('caller', e.text);
    else if (e.type === 'ai.reply') line('agent', e.text);
    else if (e.type === 'ai.latency' && d.latency.length < MAX_TRANSCRIPT_LINES)
      d.latency.push({ ...e.stages });
  }

  /** An INVITE refused before it became a call: a record with no answer, no media, `refused`. */
  #refused(r: RefusedCall): CallRecord {
    const at = new Date(this.clock.wall()).toISOString();
    return {
      callId: r.callId,
      direction: 'incoming',
      from: userOf(r.from),
      to: userOf(r.to),
      fromUri: r.from,
      toUri: r.to,
      trunk: undefined,
      route: r.route,
      start: at,
      answer: null,
      end: at,
      durationS: 0,
      talkS: 0,
      endReason: 'refused',
      status: r.status,
      codec: undefined,
      rtp: undefined,
      mos: undefined,
      recording: undefined,
      transfers: [],
      ai: undefined,
    };
  }

  #record(
    d: Draft,
    e: Extract<CallEvent, { type: 'call.ended' }>,
    end: Moment,
    recording: string | undefined,
  ): CallRecord {
    const m = d.media;
    const iso = (t: number) => new Date(t).toISOString();
    const round = (s: number) => Math.round(s / 100) / 10;
    const hadAi = d.transcript.length > 0 || d.latency.length > 0;
    return {
      callId: d.callId,
      direction: d.direction ?? e.direction,
      from: userOf(d.fromUri),
      to: userOf(d.toUri),
      fromUri: d.fromUri ?? '',
      toUri: d.toUri ?? '',
      trunk: d.trunk,
      route: d.route,
      start: iso(d.start),
      answer: d.answer === undefined ? null : iso(d.answer),
      end: iso(end.wall),
      durationS: round(end.mono - d.startMono),
      talkS: d.answerMono === undefined ? 0 : round(end.mono - d.answerMono),
      endReason: e.reason,
      status: e.status,
      codec: d.codec,
      rtp: m && { sent: m.sent, received: m.received, lost: m.lost, jitterMs: m.jitterMs, rttMs: m.rttMs },
      mos:
        m && m.received + m.lost > 0
          ? estimateMos({
              lost: m.lost,
              received: m.received,
              rttMs: m.rttMs,
              bufferMs: this.quality.bufferMs,
              packetMs: 20,
            })
          : undefined,
      recording,
      transfers: d.transfers,
      ai: hadAi ? { turns: d.latency.length, latency: d.latency, transcript: d.transcript } : undefined,
    };
  }
}
