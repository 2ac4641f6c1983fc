import type { CallEvent } from '../../machines/call-events.ts';

/** A received audio packet of a call (as the media manager publishes it). */
export interface AudioPacket {
  readonly callId: string;
  readonly payloadType: number;
  readonly payload: Uint8Array;
}

/**
 * One wire protocol the WebSocket server speaks (the original text protocol, the typed JSON one on /v1).
 * The server keeps listening, authentication, keepalive, backpressure and fan-out; a protocol turns events
 * into text, once per event for all its clients, and carries out its clients' commands. `S` is what it
 * keeps per connection.
 */
export interface ClientProtocol<S> extends ProtocolTexts {
  /** A new connection's state. */
  open(): S;
  /** Whether this client gets a call's audio. */
  wantsAudio(state: S, callId: string): boolean;
  /** A call ended: forget what the client kept about it. */
  ended(state: S, callId: string): void;
  /** A text frame from the client; `reply` answers it on the same connection. */
  command(state: S, text: string, reply: (text: string) => void, client: number): void;
}

/** What a protocol says, the same for all its clients (the server encodes each event once per protocol). */
export interface ProtocolTexts {
  readonly name: 'legacy' | 'json';
  /** The text for a call event (undefined: this protocol says nothing). */
  event(e: CallEvent): string | undefined;
  /** Other events (the AI call center's): the text, or undefined. */
  extra(e: { readonly type: string; readonly callId: string }): string | undefined;
  /** The text for an audio packet. */
  audio(p: AudioPacket): string;
  /** The reply to a binary frame (only text is spoken). */
  binaryRefused(): string;
}

/** One connection's side of its protocol: the protocol's per-client calls with the state bound in. */
export interface ClientSession {
  wantsAudio(callId: string): boolean;
  ended(callId: string): void;
  command(text: string, reply: (text: string) => void, client: number): void;
}

export function openSession<S>(p: ClientProtocol<S>): ClientSession {
  const state = p.open();
  return {
    wantsAudio: (callId) => p.wantsAudio(state, callId),
    ended: (callId) => p.ended(state, callId),
    command: (text, reply, client) => p.command(state, text, reply, client),
  };
}
