import { z } from '@hono/zod-openapi';
import { DIALLED_NUMBER, DIALLED_NUMBER_RULE } from '../../../routing/number.ts';
import { agentSchema, streamSchema } from '../../../routing/routes-schema.ts';

/**
 * The REST API's request and response bodies: the handlers validate with these and the OpenAPI document
 * (GET /v1/openapi.json) is generated from them, so the two cannot drift. Each request body carries an
 * example that the test suite sends to a live relay.
 */

const number = z.string().regex(DIALLED_NUMBER, DIALLED_NUMBER_RULE).openapi({ example: '1001' });

export const OutboundAction = z
  .object({
    agent: agentSchema.optional(),
    stream: streamSchema.optional(),
    clients: z.object({}).strict().optional(),
    transfer: z.string().min(1).optional(),
  })
  .strict()
  .refine((a) => Object.values(a).filter((v) => v !== undefined).length <= 1, 'give at most one action')
  .openapi('OutboundAction', {
    description:
      "What the call gets once answered, in the routes file's words: one of agent, stream, clients (the WebSocket clients only), transfer (a target). None: the environment's (CALL_CENTER, MEDIA_STREAM_URL).",
  });

export const DialRequest = z
  .object({
    to: number,
    from: number.optional().openapi({ description: "Our From user (caller ID); default the trunk's" }),
    trunk: z
      .string()
      .min(1)
      .optional()
      .openapi({ description: 'A trunk of the routes file; default the trunk whose prefixes match `to`' }),
    action: OutboundAction.optional(),
  })
  .strict()
  .openapi('DialRequest', {
    example: {
      to: '1001',
      action: { agent: { prompt: "You remind the customer of tomorrow's appointment." } },
    },
  });

export const CallInfo = z
  .object({
    callId: z.string(),
    direction: z.enum(['incoming', 'outgoing']),
    state: z.string().openapi({ description: 'idle, ringing, accepted, established, terminating ...' }),
    from: z.string().openapi({ description: 'The From URI (with display name)' }),
    to: z.string().openapi({ description: 'The To URI (incoming) or the Request-URI (outgoing)' }),
    trunk: z.string().nullable(),
    route: z.string().nullable(),
    startedAt: z.string().nullable().openapi({ description: 'ISO 8601' }),
    answeredAt: z.string().nullable().openapi({ description: 'ISO 8601; null until answered' }),
  })
  .openapi('Call');

export const CallList = z.object({ calls: z.array(CallInfo) }).openapi('CallList');

export const TransferRequest = z
  .object({
    target: z
      .string()
      .min(1)
      .max(512)
      .openapi({ description: 'A number (at SIP_SERVER_IP) or a sip: URI in TRANSFER_ALLOWED_TARGETS' }),
    mode: z.enum(['blind', 'attended']).default('blind'),
  })
  .strict()
  .openapi('TransferRequest', { example: { target: '1002', mode: 'blind' } });

export const Accepted = z
  .object({
    status: z.literal('accepted'),
    consultCallId: z
      .string()
      .optional()
      .openapi({ description: 'Attended transfers: the call to the target' }),
    detail: z.string().optional().openapi({
      description: 'What happens next when it is not done at once (a hang-up waiting to CANCEL)',
    }),
  })
  .openapi('Accepted');

/** 20 ms of mu-law silence, base64: the play example. */
const SILENCE_20MS = Buffer.alloc(160, 0xff).toString('base64');

export const PlayRequest = z
  .object({
    format: z.enum(['pcmu', 'pcma', 'l16']),
    sampleRate: z.union([z.literal(8000), z.literal(16000), z.literal(24000)]).default(8000),
    audio: z.base64().min(1).openapi({ description: 'Raw audio, base64 (l16: little-endian 16-bit)' }),
  })
  .strict()
  .openapi('PlayRequest', { example: { format: 'pcmu', sampleRate: 8000, audio: SILENCE_20MS } });

export const DtmfRequest = z
  .object({ digits: z.string().regex(/^[0-9A-Da-d*#]{1,32}$/, 'digits 0-9, A-D, * and #') })
  .strict()
  .openapi('DtmfRequest', { example: { digits: '12#' } });

export const CallIdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(512)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'a84b4c76e66710' }),
});

/** RFC 9457 problem details. */
export const Problem = z
  .object({
    type: z.string().openapi({ description: 'A URN naming the problem: urn:sip-relay:problem:<code>' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z.string().openapi({ description: 'The same code the JSON WebSocket protocol uses' }),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: 'Each invalid field of the request' }),
  })
  .openapi('Problem');
