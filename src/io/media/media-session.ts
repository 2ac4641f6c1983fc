import type { Socket } from 'node:dgram';
import type { Logger } from '../../kernel/logger.ts';
import {
  codecOfPayloadType,
  decodeG711,
  encodeG711,
  type G711,
  PAYLOAD_TYPE,
  SILENCE_BYTE,
} from '../../media/g711.ts';
import { JitterBuffer } from '../../media/jitter-buffer.ts';
import { Loop } from '../../media/loop.ts';
import { FRAME_SAMPLES, PlayoutQueue } from '../../media/playout-queue.ts';
import { DtmfReceiver, DtmfSender } from '../../rtp/dtmf.ts';
import { buildRtp, readRtpHeader, rtpHeader } from '../../rtp/packet.ts';
import { ReceiverStats } from '../../rtp/receiver-stats.ts';
import { RtcpSession } from '../../rtp/rtcp-session.ts';
import { RtpSender } from '../../rtp/sender.ts';
import { RtpSourcePolicy } from '../../rtp/source-policy.ts';
import { masterKeyOf, ourSrtp, type SrtpEndpoint, type SrtpEngine } from '../../rtp/srtp.ts';
import { Hearing } from '../../rtp/watchdog.ts';
import type { MediaOptions, MediaReport, MediaSessionInit, MediaStats } from './media-types.ts';
import { PacketSlots } from './packet-slots.ts';
import type { WavRecorder } from './recording.ts';

import type { PacedStream, RtpScheduler } from './rtp-scheduler.ts';

const ZERO = new Int16Array(FRAME_SAMPLES);

/**
 * One call's media: RTP in (source check, jitter buffer, G.711 decode with each packet's own payload type,
 * recording) and RTP out (playout queue or silence, encode, packetise) on the shared scheduler's 20 ms
 * ticks. Media never rides actor events: the call actor only starts and stops this.
 */
export class MediaSession implements PacedStream {
  readonly queue = new PlayoutQueue();
  /**
   * Music on hold (HOLD_MUSIC_PATH) while we hold the call: played in a loop instead of the queue, which
   * keeps what it holds for after the resume.
   */
  #holdMusic: Loop | undefined;
  readonly stats: MediaStats = { sent: 0, received: 0, ignored: 0, lastPacketAt: 0 };
  readonly jitter: JitterBuffer;
  #opts: MediaOptions;
  readonly #sources: RtpSourcePolicy;
  /** Since when we send without having heard anything (RTP or RTCP) from where we send to. */
  readonly #hearing = new Hearing();
  /** RFC 3550 A.1/A.3: the source received, probation, sequence, loss (src/rtp/receiver-stats.ts). */
  readonly #rx = new ReceiverStats();
  /** SSRC, sequence, timestamp and marker of what we send (src/rtp/sender.ts). */
  readonly #tx: RtpSender;
  /** Scratch buffer for the decoded frame (the recorder copies it). */
  readonly #decoded = new Int16Array(FRAME_SAMPLES * 4);
  /** The first 20 ms of #decoded: a view made once, not per tick. */
  readonly #frame = this.#decoded.subarray(0, FRAME_SAMPLES);
  #sending = false;
  #closed = false;
  readonly #onMessage: (data: Buffer, rinfo: { address: string; port: number }) => void;
  readonly #onRtcp: (data: Buffer, rinfo: { address: string; port: number }) => void;
  /** 20 ms ticks so far (an RTCP report every 250). */
  #ticks = 0;
  /** Our reports and the peer's (RFC 3550 6.4: src/rtp/rtcp-session.ts). */
  readonly #rtcp: RtcpSession;
  /** RFC 4733 digits to send, and the de-duplication of those received. */
  readonly #dtmfOut = new DtmfSender(FRAME_SAMPLES);
  readonly #dtmfIn = new DtmfReceiver();

  readonly callId: string;
  readonly socket: Socket;
  readonly rtcpSocket: Socket | undefined;
  readonly scheduler: RtpScheduler;
  readonly recorder: WavRecorder | undefined;
  readonly log: Logger;
  readonly onDtmf: (digit: string) => void;
  readonly now: () => number;
  /** Every received audio packet, raw (the legacy RTP:{pt}##{hex} event). */
  readonly onAudio: ((payloadType: number, payload: Uint8Array) => void) | undefined;

  constructor(init: MediaSessionInit) {
    const opts = init.options;
    this.callId = init.callId;
    this.socket = init.socket;
    this.rtcpSocket = init.rtcpSocket;
    this.scheduler = init.scheduler;
    this.recorder = init.recorder;
    this.log = init.log;
    this.onDtmf = init.onDtmf;
    this.now = init.now ?? (() => performance.now());
    this.onAudio = init.onAudio;
    this.#tx = new RtpSender(init.random ?? Math.random, FRAME_SAMPLES);
    this.#rtcp = new RtcpSession(this.#tx.ssrc);
    this.#tickClock = init.tickClock ?? (() => performance.now());
    this.#wallOrigin = init.wallOrigin ?? performance.timeOrigin;
    this.#opts = opts;
    this.#srtpEngine = init.srtpEngine ?? ourSrtp;
    this.#srtp = srtpContexts(opts, this.#srtpEngine);
    this.#sources = new RtpSourcePolicy(opts.remote, {
      symmetric: opts.symmetric,
      signalling: opts.signalling,
    });
    this.jitter = new JitterBuffer({ depthMs: opts.jitterMs });
    this.#onMessage = (data, rinfo) => this.#receive(data, rinfo);
    this.socket.on('message', this.#onMessage);
    this.#onRtcp = (data, rinfo) => this.#receiveRtcp(data, rinfo);
    this.rtcpSocket?.on('message', this.#onRtcp);
    this.stats.lastPacketAt = this.now();
    this.queue.onStart = () => this.#startEarly();
    this.scheduler.add(this);
  }

  /** The call's negotiated codec (what we send). */
  get codec(): G711 {
    return this.#opts.codec;
  }

  /**
   * New SDP (re-INVITE): codec, address or direction changed. Media moved to a new address is learnt
   * afresh there (RFC 3264 8.3.1), and must be heard from within the start timeout like a new call.
   */
  update(opts: MediaOptions): void {
    const wasExpecting = this.expectsRtp;
    const old = this.#opts.srtp;
    // new keys (a re-INVITE with new crypto) mean new contexts; the same keys keep their rollover counters
    if (old?.local !== opts.srtp?.local || old?.remote !== opts.srtp?.remote)
      this.#srtp = srtpContexts(opts, this.#srtpEngine);
    this.#opts = opts;
    // back from a hold: the inactivity timeout counts from the resume, not from the last packet before it
    if (!wasExpecting && this.expectsRtp) this.stats.lastPacketAt = this.now();
    if (this.#sources.setSdp(opts.remote)) {
      this.#rtcp.moved();
      if (this.#sending) this.#hearing.moved(this.now());
    }
    this.#tx.endSpurt();
  }

  /** Where our RTP goes now (undefined: held with c=0.0.0.0, or nothing known). */
  get remote(): { address: string; port: number } | undefined {
    return this.#sources.target;
  }

  /** RFC 3264 6.1: we send when our direction is sendrecv or sendonly (not on hold), to a known address. */
  get sends(): boolean {
    const d = this.#opts.direction ?? 'sendrecv';
    return (d === 'sendrecv' || d === 'sendonly') && this.#sources.target !== undefined;
  }

  /**
   * Whether the peer should be sending us RTP: our direction is sendrecv or recvonly, and the call is not
   * held the RFC 2543 way (c=0.0.0.0). The inactivity timeout applies only then.
   */
  get expectsRtp(): boolean {
    const d = this.#opts.direction ?? 'sendrecv';
    return (d === 'sendrecv' || d === 'recvonly') && this.#opts.remote !== undefined;
  }

  /** How long we have been sending without hearing anything from the peer (0 once heard). */
  unheardFor(now: number): number {
    return this.#hearing.unheardFor(now, this.#sending);
  }

  /** From now on frames go out (queued audio, or silence). */
  startSending(): void {
    if (!this.#sending) this.#hearing.started(this.now(), this.stats.received > 0 || this.#rtcp.heard);
    this.#sending = true;
  }

  /** Stops sending for good (a peer never heard from: no more packets towards a possible victim). */
  stopSending(): void {
    this.#sending = false;
  }

  /** Stops the stream; resolves when the recording is finalised on disk. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.scheduler.remove(this);
    this.socket.off('message', this.#onMessage);
    this.rtcpSocket?.off('message', this.#onRtcp);
    return this.recorder?.close() ?? Promise.resolve();
  }

  #receive(wire: Buffer, rinfo: { address: string; port: number }): void {
    this.scheduler.poll();
    const pkt = this.#header;
    // SRTP: authenticated (and decrypted) before anything else is learnt from the packet, the source
    // included: without the key nobody can latch or inject
    const data = this.#srtp ? this.#srtp.rx.unprotectRtpInPlace(wire) : wire; // the datagram's buffer is ours
    if (typeof data === 'string' || readRtpHeader(data, pkt) !== undefined) {
      this.stats.ignored++;
      return;
    }
    // strict source learning (src/rtp/source-policy.ts): the SDP address wins, strangers are ignored
    if (!this.#sources.accept(rinfo.address, rinfo.port)) {
      this.stats.ignored++;
      return;
    }
    this.#hearing.heard(this.now());
    // RFC 3550 A.1 probation: a new SSRC is taken only after 3 packets in a row (the peer restarted its
    // stream, e.g. after a re-INVITE); a stray packet is ignored
    const taken = this.#rx.accept(pkt.ssrc, pkt.sequence);
    if (taken === 'held') {
      this.stats.ignored++;
      return;
    }
    if (taken === 'new') this.log.debug({ ssrc: pkt.ssrc }, 'RTP SSRC changed');
    this.stats.received++;
    this.stats.lastPacketAt = this.now();
    if (pkt.payloadType === this.#opts.dtmfPayloadType) {
      const digit = this.#dtmfIn.accept(pkt.timestamp, data.subarray(pkt.start, pkt.end));
      if (digit !== undefined) this.onDtmf(digit);
      return;
    }
    const codec = codecOfPayloadType(pkt.payloadType);
    if (codec === undefined) {
      this.stats.ignored++;
      return;
    }
    // views of the payload only for whoever asked for it: nothing is allocated per packet otherwise
    if (this.onAudio && this.wantsAudio()) this.onAudio(pkt.payloadType, data.subarray(pkt.start, pkt.end));
    this.jitter.pushFrom(pkt.sequence, pkt.timestamp, pkt.payloadType, data, pkt.start, pkt.end, this.now());
    const n = pkt.end - pkt.start;
    if (this.onHeard && n <= this.#heard.length) {
      this.#heardTick = this.#ticks;
      this.onHeard(decodeG711(codec, data.subarray(pkt.start, pkt.end), this.#heard.subarray(0, n)));
    }
  }

  /** One 20 ms tick of the shared scheduler (`transmit` false: long overdue, everything but the packet). */
  tick(deadline: number, _now?: number, transmit = true): void {
    this.#lastDeadline = deadline;
    this.#transmitting = transmit;
    // in: one frame out of the jitter buffer into the recording (decoded with ITS payload type)
    const out = this.jitter.pop();
    let heard: Int16Array = ZERO;
    if (out.kind === 'packet' && out.packet.payload.length <= FRAME_SAMPLES * 4) {
      const codec = codecOfPayloadType(out.packet.payloadType) ?? this.#opts.codec;
      const n = out.packet.payload.length;
      heard = decodeG711(
        codec,
        out.packet.payload,
        n === FRAME_SAMPLES ? this.#frame : this.#decoded.subarray(0, n),
      );
    }
    // out: an RFC 4733 event in progress, else the next queued frame, else silence
    let sent: Int16Array | undefined;
    const sends = this.#sending && this.sends;
    if (sends && this.#dtmfOut.busy) {
      this.#sendDtmfFrame();
    } else if (sends) {
      sent = this.#holdMusic ? this.#holdMusic.next() : this.queue.next();
      if (sent || this.#opts.sendSilence) this.#send(sent);
      // RFC 3550 5.1: the timestamp keeps counting through a silence not sent (src/rtp/sender.ts)
      else this.#tx.silent();
    }
    // a talkspurt started early keeps the recording one frame behind what was sent until the spurt ends
    let said = sent ?? ZERO;
    if (this.#ahead) {
      said = this.#ahead;
      this.#ahead = sent;
    }
    if (this.recorder && this.stats.received > 0) this.recorder.write(heard, said);
    this.onFrame?.(heard);
    // the caller's stream paused (DTX, or it stopped): the listener hears silence, so turns still end
    if (this.onHeard && this.#ticks - this.#heardTick >= 3) this.onHeard(ZERO);
    if (++this.#ticks % 250 === 0) this.sendReport(); // every 5 s
  }

  /** Starts (a loop of 8 kHz samples) or stops the music on hold. */
  holdMusic(samples: Int16Array | undefined): void {
    this.#holdMusic =
      samples && samples.length >= FRAME_SAMPLES ? new Loop(samples, FRAME_SAMPLES) : undefined;
  }

  #lastDeadline: number | undefined;
  readonly #tickClock: () => number;
  readonly #wallOrigin: number;
  /** The frame sent ahead of its tick (startEarly), recorded at that tick. */
  #ahead: Int16Array | undefined;

  /**
   * Audio queued while the stream was idle starts at once, not at the next 20 ms tick (up to 20 ms later):
   * its first packet carries the marker bit, which lets the receiver set its playout point for the new
   * talkspurt on that packet's arrival (RFC 3550 5.1, RFC 3551 4.1); sequence numbers and timestamps stay
   * contiguous, and the following frames keep the stream's own deadlines.
   */
  #startEarly(): void {
    if (this.#closed || !this.#sending || !this.sends || this.#tx.talking || this.#ahead) return;
    if (this.#dtmfOut.busy || this.#lastDeadline === undefined) return;
    // the scheduler's deadlines are on its own clock (performance.now()), not on the injected `now`
    const untilTick = this.#lastDeadline + 20 - this.#tickClock();
    // the tick is due anyway (or the scheduler runs late and is about to send it)
    if (untilTick < 2 || untilTick > 20) return;
    const frame = this.queue.next();
    if (!frame) return;
    this.#send(frame);
    this.#ahead = frame;
  }

  /** Queues a digit to send as RFC 4733 telephone-events (100 ms tone, then 3 end packets). */
  sendDtmf(digits: string): boolean {
    if (this.#opts.dtmfPayloadType === undefined) return false;
    this.#dtmfOut.enqueue(digits);
    return true;
  }

  /** The next RFC 4733 packet of the digit being sent (src/rtp/dtmf.ts), in place of a frame of audio. */
  #sendDtmfFrame(): void {
    const e = this.#dtmfOut.next(this.#tx.timestamp);
    if (this.#transmitting) {
      const packet = buildRtp({
        marker: e.marker,
        payloadType: this.#opts.dtmfPayloadType!,
        sequence: this.#tx.nextSequence(),
        timestamp: e.timestamp,
        ssrc: this.#tx.ssrc,
        payload: e.payload,
      });
      this.#transmit(packet);
      this.stats.sent++;
    }
    if (e.resumeAt !== undefined) this.#tx.resumeAt(e.resumeAt); // audio resumes after the event
  }

  /** Per-call statistics for logs and metrics. */
  report(): MediaReport {
    return {
      sent: this.stats.sent,
      received: this.stats.received,
      lost: this.#rx.lost,
      jitterMs: this.jitter.stats.jitter / 8,
      rttMs: this.#rtcp.rttMs,
      firstHeardMs: this.#hearing.firstHeardMs,
    };
  }

  /** Sends an RTCP SR (or RR before we sent anything) with a report block about the peer (RFC 3550 6.4). */
  sendReport(): void {
    const target = this.#rtcp.target(this.#sources.target);
    if (!this.rtcpSocket || !target || !this.#sending) return;
    const sent = this.stats.sent;
    const packet = this.#rtcp.report(
      this.now(),
      this.#wallMs(),
      this.#rx.nextBlock(),
      this.jitter.stats.jitter,
      sent > 0
        ? { rtpTimestamp: this.#tx.timestamp, packets: sent, octets: sent * FRAME_SAMPLES }
        : undefined,
    );
    const wire = this.#srtp ? this.#srtp.tx.protectRtcp(packet) : packet;
    this.rtcpSocket.send(wire, target.port, target.address, () => {});
  }

  /**
   * Wall-clock time for RTCP's NTP timestamps, advanced by the monotonic clock: the round-trip time is our
   * clock at a report's arrival minus our clock in the SR it answers (RFC 3550 6.4.1: "A - LSR - DLSR"), so
   * an NTP step between the two must not enter it (Date.now() did: a 30 s step read as a 30 s round trip).
   */
  #wallMs(): number {
    return this.#wallOrigin + this.now();
  }

  /**
   * RTCP from the peer: only well-formed reports from the IP our RTP goes to, sent by the SSRC we receive
   * (once known), may teach us where RTCP goes (symmetric RTCP); garbage from another port does not.
   */
  #receiveRtcp(wire: Buffer, rinfo: { address: string; port: number }): void {
    const remote = this.#sources.target;
    if (!remote || rinfo.address !== remote.address) return;
    const data = this.#srtp ? this.#srtp.rx.unprotectRtcp(wire) : wire;
    if (typeof data === 'string') return;
    if (this.#rtcp.receive(data, rinfo, this.#rx.ssrc, this.now(), this.#wallMs()))
      this.#hearing.heard(this.now());
  }

  #send(frame: Int16Array | undefined): void {
    if (!this.#transmitting) {
      // overdue: the time passes (timestamp), the next packet sent starts a new talkspurt; no packet
      this.#tx.skipped();
      return;
    }
    const codec = this.#opts.codec;
    // a packet buffer the socket has finished with, the payload encoded straight into it: no garbage per frame
    const slot = this.#slots.take();
    const { packet, payload } = slot;
    if (frame) encodeG711(codec, frame, payload);
    else payload.fill(SILENCE_BYTE[codec]);
    // header, marker bit (a talkspurt's first packet, the first after a stall) and the next frame's time
    this.#tx.frame(packet, frame !== undefined, PAYLOAD_TYPE[codec]);
    this.#transmit(packet, this.#slots.sent, slot.buffer);
    this.stats.sent++;
  }

  /** Packet buffers the socket has finished with, and those it has not (sends complete in order). */
  readonly #slots = new PacketSlots();

  /** False during an overdue tick: the frame is accounted for (time, queue) but not sent. */
  #transmitting = true;

  /**
   * Sends an RTP packet; with SRTP it is encrypted in `room` (a buffer that starts with the packet and has
   * room for the tag after it: no copy, no garbage) or else in a new buffer.
   */
  #transmit(packet: Uint8Array, done?: () => void, room?: Buffer): void {
    const to = this.#sources.target!;
    if (this.#srtp) {
      const tx = this.#srtp.tx;
      if (room && room.length >= packet.length + tx.overhead) {
        const n = tx.protectRtpInPlace(room, packet.length);
        this.socket.send(room, 0, n, to.port, to.address, done);
      } else {
        this.socket.send(tx.protectRtp(packet), to.port, to.address);
        done?.();
      }
      return;
    }
    this.socket.send(packet, to.port, to.address, done);
  }

  #srtp: { tx: SrtpEndpoint; rx: SrtpEndpoint } | undefined;
  readonly #srtpEngine: SrtpEngine;

  /**
   * Gets the caller's audio as each packet arrives, decoded, ahead of the jitter buffer (the AI's VAD: a
   * barge-in must not wait for the buffer's delay), and a silent frame per tick while no packet comes. The
   * frame is a scratch buffer: copy to keep. Set through MediaManager.audio$.
   */
  onHeard: ((frame: Int16Array) => void) | undefined;

  /**
   * The caller's audio as the jitter buffer plays it out: one frame per 20 ms tick (silence for a packet
   * missing at its time), paced by our clock like what we send. A bridge to another call takes this: the
   * other call's queue gets exactly one frame a tick, however the packets arrived. Scratch: copy to keep.
   */
  onFrame: ((frame: Int16Array) => void) | undefined;
  readonly #heard = new Int16Array(FRAME_SAMPLES * 4);
  /** Whether `onAudio` wants this call's packets now (asked per packet, before any view is made). */
  wantsAudio: () => boolean = () => true;
  /** The received packet's header, read in place (one object per session, not per packet). */
  readonly #header = rtpHeader();
  #heardTick = 0;
}

function srtpContexts(
  opts: MediaOptions,
  engine: SrtpEngine,
): { tx: SrtpEndpoint; rx: SrtpEndpoint } | undefined {
  const k = opts.srtp;
  if (!k) return undefined;
  return {
    tx: engine(k.suite, masterKeyOf(k.suite, k.local)),
    rx: engine(k.suite, masterKeyOf(k.suite, k.remote)),
  };
}
