import { randomBytes } from 'node:crypto';
import type { Subscription } from 'rxjs';
import WebSocket from 'ws';
import type { Logger } from '../../kernel/logger.ts';
import type { CallEvent } from '../../machines/call-events.ts';
import type { CallManager } from '../../machines/call-manager.ts';
import { decodeG711, encodeG711 } from '../../media/g711.ts';
import { parseBoundedJson } from '../json-limits.ts';
import type { MediaManager } from '../media/media-manager.ts';
import { MAX_MESSAGE_BYTES } from './limits.ts';

/** What media streams hear of the calls (a narrow port: the call manager provides it). */
export type StreamedCalls = Pick<CallManager, 'events$' | 'plan'>;

const sid = (prefix: string) => `${prefix}${randomBytes(16).toString('hex')}`;

/**
 * One call's Twilio-compatible media stream (bidirectional, as `<Connect><Stream>`): we are "Twilio" and
 * the bot at MEDIA_STREAM_URL is the app. Frames and field names follow Twilio's published
 * websocket-messages spec (../shared/VOICE-PROTOCOLS.md); numbers travel as strings.
 */
class StreamSession {
  readonly streamSid = sid('MZ');
  readonly callSid = sid('CA');
  #ws: WebSocket | undefined;
  #seq = 0;
  #chunk = 0;
  #startedAt = 0;
  #attempt = 0;
  #ended = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly callId: string,
    readonly url: string,
    readonly media: MediaManager,
    readonly log: Logger,
    readonly params: Record<string, string>,
  ) {
    this.#open();
  }

  #open(): void {
    const ws = new WebSocket(this.url, { maxPayload: MAX_MESSAGE_BYTES });
    this.#ws = ws;
    ws.on('open', () => {
      this.#attempt = 0;
      this.#startedAt = performance.now();
      this.#send({ event: 'connected', protocol: 'Call', version: '1.0.0' }, false);
      this.#send({
        event: 'start',
        streamSid: this.streamSid,
        start: {
          streamSid: this.streamSid,
          accountSid: 'AC00000000000000000000000000000000',
          callSid: this.callSid,
          tracks: ['inbound'],
          customParameters: { callId: this.callId, ...this.params },
          mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
        },
      });
    });
    ws.on('message', (data) => this.#onMessage(String(data)));
    ws.on('error', (e) => this.log.warn({ callId: this.callId, err: e.message }, 'media stream error'));
    ws.on('close', () => {
      if (this.#ended) return;
      // the bot dropped mid-call: reconnect with backoff (0.5, 1, 2, 4 s, then every 5 s)
      const delay = Math.min(500 * 2 ** this.#attempt++, 5000);
      this.log.warn({ callId: this.callId, delay }, 'media stream closed: reconnecting');
      this.#timer = setTimeout(() => this.#open(), delay);
    });
  }

  #send(msg: Record<string, unknown>, numbered = true): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    if (numbered) msg.sequenceNumber = String(++this.#seq);
    this.#ws.send(JSON.stringify(msg));
  }

  /** The caller's audio, 20 ms of mu-law (A-law calls are transcoded). */
  audio(payloadType: number, payload: Uint8Array): void {
    if (this.#ws?.readyState !== WebSocket.OPEN) return;
    const ulaw = payloadType === 8 ? encodeG711('PCMU', decodeG711('PCMA', payload)) : payload;
    this.#send({
      event: 'media',
      streamSid: this.streamSid,
      media: {
        track: 'inbound',
        chunk: String(++this.#chunk),
        timestamp: String(Math.round(performance.now() - this.#startedAt)),
        payload: Buffer.from(ulaw.buffer, ulaw.byteOffset, ulaw.byteLength).toString('base64'),
      },
    });
  }

  dtmf(digit: string): void {
    this.#send({ event: 'dtmf', streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  end(): void {
    if (this.#ended) return;
    this.#send({
      event: 'stop',
      streamSid: this.streamSid,
      stop: { accountSid: 'AC00000000000000000000000000000000', callSid: this.callSid },
    });
    this.#ended = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#ws?.close();
  }

  #dropped = 0;

  #onMessage(text: string): void {
    const parsed = parseBoundedJson(text);
    if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) {
      this.log.info(
        { callId: this.callId, why: parsed.ok ? 'not an object' : parsed.message },
        'media stream: message ignored',
      );
      return;
    }
    const msg = parsed.value as { event?: string; media?: { payload?: string }; mark?: { name?: string } };
    const queue = this.media.session(this.callId)?.queue;
    if (!queue) return;
    switch (msg.event) {
      case 'media': {
        if (typeof msg.media?.payload !== 'string') return;
        const audio = decodeG711('PCMU', Buffer.from(msg.media.payload, 'base64'));
        if (!queue.fits(audio.length / 8)) {
          // the bot runs far ahead of real time: beyond MAX_QUEUED_AUDIO_S its audio is dropped
          if (this.#dropped++ % 500 === 0)
            this.log.warn(
              { callId: this.callId, dropped: this.#dropped },
              'media stream: audio queue full, dropped',
            );
          return;
        }
        queue.appendStream(audio);
        return;
      }
      case 'mark': {
        const name = msg.mark?.name ?? '';
        // echoed when the audio before it has been PLAYED (playout clock), or when a clear discards it
        queue.mark(() => this.#send({ event: 'mark', streamSid: this.streamSid, mark: { name } }));
        return;
      }
      case 'clear':
        queue.clear();
        return;
      default:
        this.log.debug({ callId: this.callId, event: msg.event }, 'media stream: unknown event ignored');
    }
  }
}

/**
 * Opens a media stream for every established call whose plan names one (a stream route; MEDIA_STREAM_URL
 * without a routes file) and closes it when the call ends.
 */
export class MediaStreams {
  readonly #streams = new Map<string, StreamSession>();
  readonly #subs: Subscription[] = [];

  constructor(
    readonly calls: StreamedCalls,
    readonly media: MediaManager,
    readonly log: Logger,
  ) {
    this.#subs.push(calls.events$.subscribe((e) => this.#onCall(e)));
    this.#subs.push(
      media.packets$.subscribe((p) => this.#streams.get(p.callId)?.audio(p.payloadType, p.payload)),
    );
    this.#subs.push(media.wantAudio((callId) => this.#streams.has(callId)));
  }

  get size(): number {
    return this.#streams.size;
  }

  close(): void {
    for (const s of this.#streams.values()) s.end();
    this.#streams.clear();
    for (const s of this.#subs) s.unsubscribe();
  }

  #onCall(e: CallEvent): void {
    if (e.type === 'call.answered' && !this.#streams.has(e.callId)) {
      const stream = this.calls.plan(e.callId)?.stream;
      if (!stream) return;
      this.#streams.set(
        e.callId,
        new StreamSession(e.callId, stream.url, this.media, this.log, { ...stream.parameters }),
      );
    } else if (e.type === 'call.dtmf') {
      this.#streams.get(e.callId)?.dtmf(e.digit);
    } else if (e.type === 'call.ended') {
      this.#streams.get(e.callId)?.end();
      this.#streams.delete(e.callId);
    }
  }
}
