import { z } from 'zod';
import type { CallEvent } from '../../machines/call-events.ts';
import { DIALLED_NUMBER, DIALLED_NUMBER_RULE } from '../../routing/number.ts';
import { parseBoundedJson } from '../json-limits.ts';
import { legacyCaller } from './legacy-protocol.ts';

/**
 * The typed JSON protocol at /v1 (docs/websocket-json.md): every message is `{type, ...}`, commands are
 * validated with zod and carry an optional `id` that comes back in their `ack` or `error`.
 */
const callId = z.string().min(1).max(512);
const id = z.union([z.string().max(128), z.number()]).optional();

export const commandSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('call.dial'),
    id,
    number: z.string().regex(DIALLED_NUMBER, DIALLED_NUMBER_RULE),
  }),
  z.object({ type: z.literal('call.answer'), id, callId }),
  z.object({
    type: z.literal('call.reject'),
    id,
    callId,
    status: z.number().int().min(400).max(699).optional(),
  }),
  z.object({ type: z.literal('call.hangup'), id, callId }),
  z.object({
    type: z.literal('call.play'),
    id,
    callId,
    format: z.enum(['pcmu', 'pcma', 'l16']),
    sampleRate: z.union([z.literal(8000), z.literal(16000), z.literal(24000)]).default(8000),
    audio: z.base64().min(1),
  }),
  z.object({ type: z.literal('call.clear'), id, callId }),
  z.object({ type: z.literal('call.hold'), id, callId }),
  z.object({ type: z.literal('call.resume'), id, callId }),
  z.object({
    type: z.literal('call.transfer'),
    id,
    callId,
    target: z.string().trim().min(1).max(512),
    mode: z.enum(['blind', 'attended']).default('blind'),
  }),
  z.object({ type: z.literal('call.transfer.complete'), id, callId }),
  z.object({ type: z.literal('call.transfer.cancel'), id, callId }),
  z.object({ type: z.literal('call.dtmf'), id, callId, digits: z.string().regex(/^[0-9A-Da-d*#]{1,32}$/) }),
  z.object({ type: z.literal('call.subscribe'), id, callId: callId.or(z.literal('*')), audio: z.boolean() }),
]);

export type JsonCommand = z.infer<typeof commandSchema>;

export type JsonReply =
  | { type: 'ack'; id?: string | number; callId?: string; consultCallId?: string }
  | { type: 'error'; id?: string | number; code: string; message: string };

/** Parses one text frame; the error says what is wrong in words a client can show. */
export function parseJsonCommand(
  text: string,
): { ok: true; command: JsonCommand } | { ok: false; reply: JsonReply } {
  const bounded = parseBoundedJson(text);
  if (!bounded.ok)
    return {
      ok: false,
      reply: {
        type: 'error',
        code: bounded.kind === 'syntax' ? 'bad_json' : bounded.kind === 'items' ? 'too_large' : 'bad_request',
        message: bounded.message,
      },
    };
  const raw = bounded.value;
  const parsed = commandSchema.safeParse(raw);
  if (parsed.success) return { ok: true, command: parsed.data };
  const rid = (raw as { id?: unknown } | null)?.id;
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    reply: {
      type: 'error',
      ...(typeof rid === 'string' || typeof rid === 'number' ? { id: rid } : {}),
      code: 'bad_request',
      message: issue ? `${issue.path.join('.') || 'message'}: ${issue.message}` : 'invalid command',
    },
  };
}

/** The JSON event for a call event (all of them, with the call id). */
export function jsonEvent(e: CallEvent): Record<string, unknown> {
  if (e.type === 'call.incoming') return { ...e, caller: legacyCaller(e.from) };
  return { ...e };
}
