import type { CallEvent } from '../../machines/call-events.ts';
import type { CallControl, ControlResult } from '../calls/call-control.ts';
import type { AudioPacket, ClientProtocol } from './client-protocol.ts';
import { type JsonReply, jsonEvent, parseJsonCommand } from './json-protocol.ts';

/** What a JSON client asked for: the calls whose audio it gets ('*' = all). */
export interface JsonClientState {
  readonly audio: Set<string>;
}

/**
 * The typed JSON protocol on /v1 (json-protocol.ts has the schema) as a client protocol: every event as
 * JSON, audio of the calls a client subscribed to, commands answered with `ack` or `error` (with the id).
 */
export class JsonClients implements ClientProtocol<JsonClientState> {
  readonly name = 'json';
  constructor(private readonly control: CallControl) {}

  open(): JsonClientState {
    return { audio: new Set() };
  }

  event(e: CallEvent): string {
    return JSON.stringify(jsonEvent(e));
  }

  extra(e: { readonly type: string; readonly callId: string }): string {
    return JSON.stringify(e);
  }

  wantsAudio(s: JsonClientState, callId: string): boolean {
    return s.audio.has('*') || s.audio.has(callId);
  }

  audio(p: AudioPacket): string {
    return JSON.stringify({
      type: 'call.audio',
      callId: p.callId,
      format: p.payloadType === 8 ? 'pcma' : 'pcmu',
      payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.byteLength).toString('base64'),
    });
  }

  ended(s: JsonClientState, callId: string): void {
    s.audio.delete(callId);
  }

  binaryRefused(): string {
    return JSON.stringify({
      type: 'error',
      code: 'binary',
      message: 'binary frames are not supported: send text',
    });
  }

  command(s: JsonClientState, text: string, send: (text: string) => void): void {
    const parsed = parseJsonCommand(text);
    const reply = (r: JsonReply) => send(JSON.stringify(r));
    if (!parsed.ok) {
      reply(parsed.reply);
      return;
    }
    const cmd = parsed.command;
    const rid = cmd.id === undefined ? {} : { id: cmd.id };
    if (cmd.type === 'call.subscribe') {
      if (cmd.audio) s.audio.add(cmd.callId);
      else s.audio.delete(cmd.callId);
      reply({ type: 'ack', ...rid });
      return;
    }
    const answer = (r: ControlResult) => {
      if (!r.ok) reply({ type: 'error', ...rid, code: r.code, message: r.message });
      else {
        const { ok: _, ...extra } = r;
        reply({ type: 'ack', ...rid, ...extra });
      }
    };
    const r = this.control.run(cmd);
    if (r instanceof Promise) void r.then(answer);
    else answer(r);
  }
}
