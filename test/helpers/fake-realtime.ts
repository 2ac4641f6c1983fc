import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type WebSocket, WebSocketServer } from 'ws';
import { decodeG711, encodeG711, type G711 } from '../../src/media/g711.ts';

/**
 * A local OpenAI Realtime server for tests: TLS with a certificate made here by openssl (the SDK always
 * dials wss://), the GA event protocol, and a server VAD of its own (energy over 20 ms of the G.711 the
 * client appends) so turns, barge-ins and truncation happen as with the real service. Replies are a steady
 * tone in the session's G.711 law, sent faster than real time like the real server does.
 */
export interface FakeRealtimeOptions {
  /** The caller's words for the n-th turn (input transcription). */
  transcript?: (turn: number) => string;
  /** The reply text for the n-th response; its audio lasts 60 ms per character. */
  reply?: (turn: number, instructions: string | undefined) => string;
  silenceMs?: number;
  /** A function the n-th response calls after its audio (GA: response.function_call_arguments.done). */
  functionCall?: (response: number) => { name: string; arguments: string } | undefined;
}

export interface FakeRealtime {
  readonly baseURL: string;
  readonly ca: Buffer;
  /** Every client event, per connection, in order. */
  readonly connections: Array<{ events: Array<{ type: string; [k: string]: unknown }>; url: string }>;
  /** Drops every open connection (the client must reconnect). */
  dropAll(): void;
  close(): Promise<void>;
}

function makeCert(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-realtime-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startFakeRealtime(options: FakeRealtimeOptions = {}): Promise<FakeRealtime> {
  const { key, cert } = makeCert();
  const server: Server = createServer({ key, cert });
  const wss = new WebSocketServer({ server });
  const connections: FakeRealtime['connections'] = [];
  const sockets = new Set<WebSocket>();
  const silenceMs = options.silenceMs ?? 500;
  let turns = 0;
  let responses = 0;
  let ids = 0;

  wss.on('connection', (ws, req) => {
    sockets.add(ws);
    ws.on('close', () => sockets.delete(ws));
    const log: FakeRealtime['connections'][number] = { events: [], url: req.url ?? '' };
    connections.push(log);
    const send = (e: object) =>
      ws.readyState === ws.OPEN && ws.send(JSON.stringify({ event_id: `ev_${++ids}`, ...e }));
    let codec: G711 = 'PCMU';
    let speaking = false;
    let voiced = 0;
    let silent = 0;
    let active: { id: string; itemId: string; timers: NodeJS.Timeout[] } | undefined;
    send({ type: 'session.created', session: { type: 'realtime' } });

    const respond = (instructions: string | undefined) => {
      const n = ++responses;
      const text = options.reply?.(n, instructions) ?? `Reply number ${n}.`;
      const id = `resp_${n}`;
      const itemId = `item_${n}`;
      const r = { id, itemId, timers: [] as NodeJS.Timeout[] };
      active = r;
      send({ type: 'response.created', response: { id, status: 'in_progress' } });
      const samples = Math.round(text.length * 0.06 * 8000);
      const tone = new Int16Array(samples);
      for (let i = 0; i < samples; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000));
      const bytes = encodeG711(codec, tone);
      // 200 ms chunks, every 10 ms: faster than real time
      let k = 0;
      for (let o = 0; o < bytes.length; o += 1600, k++) {
        const chunk = bytes.subarray(o, o + 1600);
        r.timers.push(
          setTimeout(
            () => {
              send({
                type: 'response.output_audio.delta',
                response_id: id,
                item_id: itemId,
                output_index: 0,
                content_index: 0,
                delta: Buffer.from(chunk).toString('base64'),
              });
            },
            30 + k * 10,
          ),
        );
      }
      r.timers.push(
        setTimeout(
          () => {
            send({
              type: 'response.output_audio_transcript.done',
              response_id: id,
              item_id: itemId,
              transcript: text,
            });
            const call = options.functionCall?.(n);
            if (call)
              send({
                type: 'response.function_call_arguments.done',
                response_id: id,
                item_id: `fc_${n}`,
                output_index: 1,
                call_id: `call_${n}`,
                name: call.name,
                arguments: call.arguments,
              });
            send({ type: 'response.done', response: { id, status: 'completed' } });
            if (active === r) active = undefined;
          },
          40 + k * 10,
        ),
      );
    };
    const cancel = () => {
      if (!active) return;
      for (const t of active.timers) clearTimeout(t);
      send({ type: 'response.done', response: { id: active.id, status: 'cancelled' } });
      active = undefined;
    };

    ws.on('message', (data) => {
      const e = JSON.parse(String(data)) as { type: string; [k: string]: unknown };
      log.events.push(
        e.type === 'input_audio_buffer.append' ? { type: e.type, bytes: String(e.audio).length } : e,
      );
      switch (e.type) {
        case 'session.update': {
          const fmt = (e.session as { audio?: { input?: { format?: { type?: string } } } }).audio?.input
            ?.format?.type;
          codec = fmt === 'audio/pcma' ? 'PCMA' : 'PCMU';
          send({ type: 'session.updated', session: e.session });
          return;
        }
        case 'input_audio_buffer.append': {
          const pcm = decodeG711(codec, Buffer.from(String(e.audio), 'base64'));
          let sum = 0;
          for (const v of pcm) sum += v * v;
          const loud = Math.sqrt(sum / Math.max(1, pcm.length)) > 300;
          if (loud) {
            voiced++;
            silent = 0;
          } else {
            silent++;
            if (!speaking) voiced = 0;
          }
          if (!speaking && voiced >= 3) {
            speaking = true;
            // interrupt_response: the server cancels what it was saying
            cancel();
            send({
              type: 'input_audio_buffer.speech_started',
              audio_start_ms: 0,
              item_id: `in_${turns + 1}`,
            });
          } else if (speaking && silent * 20 >= silenceMs) {
            speaking = false;
            voiced = 0;
            const n = ++turns;
            send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: 0, item_id: `in_${n}` });
            send({ type: 'input_audio_buffer.committed', item_id: `in_${n}` });
            send({
              type: 'conversation.item.input_audio_transcription.completed',
              item_id: `in_${n}`,
              content_index: 0,
              transcript: options.transcript?.(n) ?? `caller turn ${n}`,
            });
            respond(undefined);
          }
          return;
        }
        case 'response.create':
          respond((e.response as { instructions?: string } | undefined)?.instructions);
          return;
        case 'response.cancel':
          if (active) cancel();
          else
            send({
              type: 'error',
              error: {
                type: 'invalid_request_error',
                code: 'response_cancel_not_active',
                message: 'no active response',
              },
            });
          return;
        case 'conversation.item.truncate':
          send({
            type: 'conversation.item.truncated',
            item_id: e.item_id,
            content_index: 0,
            audio_end_ms: e.audio_end_ms,
          });
          return;
        case 'conversation.item.create':
          send({ type: 'conversation.item.created', item: e.item });
          return;
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `https://127.0.0.1:${port}/v1`,
    ca: cert,
    connections,
    dropAll() {
      for (const s of sockets) s.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
