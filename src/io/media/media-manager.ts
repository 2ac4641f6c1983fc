import { Observable, Subject, Subscription } from 'rxjs';
import type { Logger } from '../../kernel/logger.ts';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import type { G711 } from '../../media/g711.ts';
import { Reframer } from '../../media/reframe.ts';
import type { SrtpEngine } from '../../rtp/srtp.ts';
import { type MediaTimeouts, mediaTimeout, watchdogPeriod } from '../../rtp/watchdog.ts';
import { MediaSession } from './media-session.ts';
import type { MediaReport } from './media-types.ts';
import type { ThreadPriority } from './priority.ts';
import { openRecording } from './recording.ts';
import type { RtpLeases } from './rtp-leases.ts';
import { RtpScheduler } from './rtp-scheduler.ts';

/** What the media side uses of the calls (a narrow port: the call manager provides it). */
export type MediaCalls = Pick<CallManager, 'call' | 'dtmf' | 'earlyMediaPlayed' | 'events$' | 'hangup'>;

export interface MediaSettings {
  readonly recordingDir: string | undefined;
  readonly recordingStereo: boolean;
  readonly sendSilence: boolean;
  readonly symmetric: boolean;
  readonly jitterMs: number;
  /** No RTP for this long -> the call is hung up (0 = never). */
  readonly inactivityMs: number;
  /**
   * Nothing at all (RTP or RTCP) from the peer this long after we started sending -> we stop sending and
   * hang up (0 = never): SDP pointing at a third party must not make us its traffic source for long.
   */
  readonly startTimeoutMs?: number;
  /** Audio clients may queue per call (MAX_QUEUED_AUDIO_S), in ms; unset = no cap. */
  readonly maxQueuedMs?: number;
  /** The RTP clock thread's scheduling (PROCESS_NICE, REALTIME_PRIORITY); unset = inherited. */
  readonly priority?: ThreadPriority;
}

/** What the calls hear from us. */
export interface MediaAudio {
  /** The greeting, 8 kHz (none: silence until a client or an agent speaks). */
  readonly greeting?: Int16Array | undefined;
  /** HOLD_MUSIC_PATH at 8 kHz: what a call we hold hears (silence when unset). */
  readonly musicOnHold?: Int16Array | undefined;
  /** Whether a call's agent speaks its greeting (and so its early media), instead of the WAV. */
  readonly agentGreets?: (callId: string) => boolean;
}

const FRAME = 160;
/** What a caller waiting with no HOLD_MUSIC_PATH hears: one silent frame, looped. */
const SILENCE = new Int16Array(FRAME);

/**
 * Starts and stops each call's media from the call events: receiving (and recording) from `call.media`,
 * sending (greeting first) from `call.answered`, everything closed on `call.ended`. One shared scheduler
 * paces all calls; a call whose RTP stops for `inactivityMs` is hung up.
 */
export class MediaManager {
  readonly scheduler: RtpScheduler;
  /**
   * Every received audio packet of the calls some consumer asked for through `wantAudio` (WebSocket clients
   * subscribe). Calls nobody listens to cost no event per packet (50 a second per call).
   */
  readonly packets$ = new Subject<{ callId: string; payloadType: number; payload: Uint8Array }>();
  readonly #audioWanted = new Set<(callId: string) => boolean>();

  /** Puts a call's audio on packets$ while `wants(callId)` says so; unsubscribe to stop asking. */
  wantAudio(wants: (callId: string) => boolean): Subscription {
    this.#audioWanted.add(wants);
    return new Subscription(() => this.#audioWanted.delete(wants));
  }

  #wanted(callId: string): boolean {
    for (const w of this.#audioWanted) if (w(callId)) return true;
    return false;
  }
  readonly #sessions = new Map<string, MediaSession>();
  /** Each call's media statistics when it ends (metrics, logs). */
  readonly ended$ = new Subject<MediaReport & { callId: string; recording: string | undefined }>();
  /** After a call's media has closed: its recording file, once on disk (undefined: none kept). */
  readonly saved$ = new Subject<{ callId: string; recording: string | undefined }>();
  readonly #ended = { sent: 0, received: 0, lost: 0 };

  /** RTP packets sent, received and lost since start: calls that ended plus those still up. */
  totals(): { sent: number; received: number; lost: number } {
    const t = { ...this.#ended };
    for (const s of this.#sessions.values()) {
      const r = s.report();
      t.sent += r.sent;
      t.received += r.received;
      t.lost += r.lost;
    }
    return t;
  }
  readonly #sub: Subscription;
  readonly #watchdog: NodeJS.Timeout | undefined;
  readonly #timeouts: MediaTimeouts;

  /** Calls whose greeting went out as early media (before the answer). */
  readonly #early = new Set<string>();

  constructor(
    private readonly calls: MediaCalls,
    /** The calls' RTP port pairs: each session reads its call's sockets, and lets go when it is released. */
    readonly leases: RtpLeases,
    private readonly settings: MediaSettings,
    /** What the calls hear from us: the greeting, the music on hold, and whose agent greets instead. */
    private readonly audio: MediaAudio,
    private readonly log: Logger,
    /** Whose SRTP the sessions use: ours unless a benchmark measures another's (RelayDeps.srtpEngine). */
    private readonly srtpEngine?: SrtpEngine,
    /** The sessions' clock (ms): RTP arrival, inactivity. */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#timeouts = { inactivityMs: settings.inactivityMs, startTimeoutMs: settings.startTimeoutMs ?? 0 };
    this.scheduler = new RtpScheduler({
      ...(settings.priority ? { priority: settings.priority } : {}),
      onClockPriority: (failed) => {
        if (failed.nice || failed.realtime)
          log.warn({ err: failed }, 'could not set the RTP clock thread priority');
        else if (settings.priority?.realtime !== undefined)
          log.info({ priority: settings.priority.realtime }, 'RTP clock thread runs real-time (SCHED_RR)');
      },
      onClockFailed: (e) =>
        log.warn({ err: e.message }, 'RTP clock thread failed: pacing falls back to setTimeout (1 ms steps)'),
    });
    this.#sub = calls.events$.subscribe((e) => this.#on(e));
    // a call released before its end event (a shutdown's stop): its media goes before its sockets
    this.#sub.add(leases.released$.subscribe((callId) => this.#drop(callId)));
    const every = watchdogPeriod(this.#timeouts);
    if (every !== undefined) {
      this.#watchdog = setInterval(() => this.#checkInactivity(), every);
      this.#watchdog.unref();
    }
  }

  #agentGreets(callId: string): boolean {
    return this.audio.agentGreets?.(callId) ?? false;
  }

  get size(): number {
    return this.#sessions.size;
  }

  session(callId: string): MediaSession | undefined {
    return this.#sessions.get(callId);
  }

  /**
   * The call's decoded caller audio in 20 ms frames (160 samples, copied) as packets arrive, and silent
   * frames while none come, from now until the call ends (the AI subscribes). Packets of other lengths
   * (ptime 30) are re-cut into 20 ms frames. Completes at once for an unknown call.
   */
  audio$(callId: string): Observable<Int16Array> {
    return new Observable<Int16Array>((sub) => {
      const session = this.#sessions.get(callId);
      if (!session) {
        sub.complete();
        return;
      }
      const frames = new Reframer(FRAME);
      const next = (frame: Int16Array) => sub.next(frame);
      session.onHeard = (frame) => frames.push(frame, next);
      const ended = this.calls.events$.subscribe((e) => {
        if (e.type === 'call.ended' && e.callId === callId) sub.complete();
      });
      return () => {
        ended.unsubscribe();
        if (session.onHeard) session.onHeard = undefined;
      };
    });
  }

  /** A caller waiting for a warm transfer hears the music on hold (locally: no re-INVITE), or not. */
  holdMusic(callId: string, on: boolean): void {
    this.#sessions.get(callId)?.holdMusic(on ? (this.audio.musicOnHold ?? SILENCE) : undefined);
  }

  /**
   * Joins two calls' audio both ways (a warm transfer): each call's frames as its jitter buffer plays them
   * out, one per tick, go into the other's playout queue (what was queued before is dropped). Taking the
   * paced frames, not the packets as they arrive, keeps the other side's queue at a frame or two: late
   * packets are the jitter buffer's business, not a growing delay or a stretched voice. Returns the
   * function that parts them.
   */
  bridge(a: string, b: string): () => void {
    const sa = this.#sessions.get(a);
    const sb = this.#sessions.get(b);
    if (!sa || !sb) return () => {};
    sa.queue.clear();
    sb.queue.clear();
    // two frames of cushion: a frame from the other call lands in a queue that is never empty, so it plays
    // at this call's own tick (an empty queue would start a new talkspurt at once, every frame: marker
    // bits and timestamp jumps the far end's jitter buffer cannot follow; seen when a call ticks after the
    // other in the scheduler's pass)
    for (const s of [sa, sb]) s.queue.enqueue(new Int16Array(FRAME * 2));
    sa.onFrame = (f) => sb.queue.enqueue(f.slice());
    sb.onFrame = (f) => sa.queue.enqueue(f.slice());
    return () => {
      sa.onFrame = undefined;
      sb.onFrame = undefined;
    };
  }

  /** Stops every stream and resolves once every recording is finalised on disk (shutdown). */
  async close(): Promise<void> {
    this.#sub.unsubscribe();
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const s of this.#sessions.values()) this.#track(this.#close(s));
    this.#sessions.clear();
    await Promise.all(this.#closing);
    await this.scheduler.close();
  }

  readonly #closing = new Set<Promise<void>>();
  #track(p: Promise<void>): void {
    this.#closing.add(p);
    void p.finally(() => this.#closing.delete(p));
  }

  #on(e: CallEvent): void {
    switch (e.type) {
      case 'call.media': {
        const opts = {
          codec: e.codec as G711,
          remote: e.remote,
          dtmfPayloadType: e.dtmfPayloadType,
          sendSilence: this.settings.sendSilence,
          symmetric: this.settings.symmetric,
          jitterMs: this.settings.jitterMs,
          direction: e.direction,
          signalling: e.signalling,
          // the keys come from the call itself: they are never in an event (events reach clients and logs)
          srtp: e.srtp ? this.calls.call(e.callId)?.media?.srtp : undefined,
        };
        const existing = this.#sessions.get(e.callId);
        if (existing) {
          existing.update(opts);
          return;
        }
        const ports = this.leases.get(e.callId);
        if (!ports) return;
        const log = this.log.child({ callId: e.callId });
        const recorder = this.settings.recordingDir
          ? openRecording(this.settings.recordingDir, e.callId, this.settings.recordingStereo, log)
          : undefined;
        const session = new MediaSession({
          callId: e.callId,
          socket: ports.rtp,
          rtcpSocket: ports.rtcp,
          options: opts,
          scheduler: this.scheduler,
          recorder,
          log,
          onDtmf: (digit) => this.calls.dtmf(e.callId, digit),
          onAudio: (payloadType, payload) => this.packets$.next({ callId: e.callId, payloadType, payload }),
          srtpEngine: this.srtpEngine,
          now: this.now,
        });
        session.wantsAudio = () => this.packets$.observed && this.#wanted(e.callId);
        if (this.settings.maxQueuedMs !== undefined) session.queue.limitMs = this.settings.maxQueuedMs;
        this.#sessions.set(e.callId, session);
        return;
      }
      case 'call.hold': {
        // RFC 3264 8.4 leaves what a held party hears to us: HOLD_MUSIC_PATH, looped, else silence
        if (e.status !== 'failed')
          this.#sessions.get(e.callId)?.holdMusic(e.status === 'held' ? this.audio.musicOnHold : undefined);
        return;
      }
      case 'call.early': {
        // RFC 3960 early media: the greeting before the answer; auto-answer once it has been heard
        const s = this.#sessions.get(e.callId);
        if (!s) return;
        this.#early.add(e.callId);
        const agentGreets = this.#agentGreets(e.callId);
        if (this.audio.greeting && !agentGreets) s.queue.enqueue(this.audio.greeting);
        s.startSending();
        // the AI speaks the greeting (AI_GREETING_TEXT): the call center answers once it has been heard
        if (agentGreets) return;
        s.queue.mark((reason) => {
          if (reason === 'played') this.calls.earlyMediaPlayed(e.callId);
        });
        return;
      }
      case 'call.answered': {
        const s = this.#sessions.get(e.callId);
        if (!s) return;
        // after early media the greeting has been played already
        const early = this.#early.delete(e.callId);
        if (this.audio.greeting && !early && !this.#agentGreets(e.callId))
          s.queue.enqueue(this.audio.greeting);
        s.startSending();
        return;
      }
      case 'call.ended': {
        this.#early.delete(e.callId);
        const s = this.#drop(e.callId);
        if (!s) return;
        const report = s.report();
        this.#ended.sent += report.sent;
        this.#ended.received += report.received;
        this.#ended.lost += report.lost;
        this.ended$.next({ callId: e.callId, ...report, recording: s.recorder?.path });
        this.log.debug({ callId: e.callId, ...report }, 'media stats'); // the call's end line has them (call-log.ts)
        return;
      }
    }
  }

  /**
   * The one way a call's media session ends (its call ended, or its ports were released first): out of the
   * map, closed in the background (close() waits for it). Returns the session for its last report.
   */
  #drop(callId: string): MediaSession | undefined {
    const s = this.#sessions.get(callId);
    if (!s) return undefined;
    this.#sessions.delete(callId);
    this.#track(this.#close(s));
    return s;
  }

  /** Closes a call's media; once its recording is on disk, says what became of it. */
  async #close(s: MediaSession): Promise<void> {
    await s.close();
    const r = s.recorder;
    this.saved$.next({ callId: s.callId, recording: r && !r.removed ? r.path : undefined });
    if (!r) return;
    const at = { callId: s.callId, file: r.path, ms: Math.round(r.savedMs) };
    if (r.failed)
      this.log.error({ ...at, err: r.failed.message }, 'recording incomplete: saved up to the failure');
    else if (r.removed) this.log.info({ callId: s.callId }, 'no audio to record: no recording kept');
    else this.log.info(at, 'recording saved');
  }

  #checkInactivity(): void {
    const now = this.now();
    for (const s of this.#sessions.values()) {
      const verdict = mediaTimeout(
        { unheardMs: s.unheardFor(now), expectsRtp: s.expectsRtp, silentMs: now - s.stats.lastPacketAt },
        this.#timeouts,
      );
      if (verdict === 'never-heard') {
        // a peer that never sends anything may not exist at that address (SDP aimed at a victim): stop
        // at once, and end the call
        this.log.warn(
          { callId: s.callId, remote: s.remote, seconds: this.#timeouts.startTimeoutMs / 1000 },
          'nothing heard from the peer since we started sending: stopped, hanging up',
        );
        s.stopSending();
        this.calls.hangup(s.callId, 'rtp-timeout');
      } else if (verdict === 'inactive') {
        this.log.warn(
          { callId: s.callId, seconds: this.#timeouts.inactivityMs / 1000 },
          'no RTP: hanging up',
        );
        s.stats.lastPacketAt = now; // once
        this.calls.hangup(s.callId, 'rtp-timeout');
      }
    }
  }
}
