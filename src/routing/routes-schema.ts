import { z } from 'zod';
import { isCidr } from './address-set.ts';
import { TOOL_NAMES } from './tool-names.ts';

/**
 * The routes file (ROUTES_FILE, YAML or JSON): trunks, and routes tried in order on each incoming call.
 * Each route names exactly one action; the same actions come back from a call webhook, so an app can
 * decide per call what a route decides per number.
 */

const name = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 letters, digits, _ . or -');

/** A number pattern: digits and the characters numbers carry, `*` standing for any run of them. */
const pattern = z
  .string()
  .trim()
  .regex(
    /^[A-Za-z0-9+*#._@-]{1,64}$/,
    'must be a number or user (letters, digits, + # . _ - @), * for any run',
  );
const patterns = z.union([pattern, z.array(pattern).min(1)]).transform((p) => (Array.isArray(p) ? p : [p]));

const cidr = z.string().trim().refine(isCidr, 'must be an IP address or CIDR block (10.0.0.0/8)');
const cidrs = z.union([cidr, z.array(cidr).min(1)]).transform((c) => (Array.isArray(c) ? c : [c]));

const status = z.number().int().min(400, 'must be a final status, 400 to 699').max(699, 'must be 400 to 699');

const wsUrl = z.url({ protocol: /^wss?$/, error: 'must be a ws:// or wss:// URL' });
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** What an agent route changes from the AI_* settings (each unset field keeps the environment's value). */
export const agentSchema = z.strictObject({
  provider: z.enum(['openai', 'openai-realtime', 'echo']).optional(),
  /** The chat model (openai) or the Realtime model (openai-realtime). */
  model: z.string().trim().min(1).optional(),
  prompt: z.string().trim().min(1).optional(),
  voice: z.string().trim().min(1).optional(),
  language: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'auto' || /^[a-z]{2,3}$/.test(v), 'must be an ISO-639-1 code such as en, or auto')
    .optional(),
  greeting: z.string().trim().min(1).optional(),
  tools: z.array(z.enum(TOOL_NAMES)).optional(),
  transferTarget: z.string().trim().min(1).optional(),
});

/** In the routes file an agent may also read its prompt from a file (relative to the routes file). */
const fileAgentSchema = agentSchema.extend({ promptFile: z.string().trim().min(1).optional() });

export const streamSchema = z.strictObject({
  url: wsUrl,
  /** Twilio's customParameters: handed to the bot in the `start` message. */
  parameters: z.record(z.string(), z.string()).optional(),
});

const clientsSchema = z
  .union([
    z.literal(true),
    z.strictObject({
      /** Answer at once (after RING_DELAY_MS) instead of waiting for a client; default AUTO_ANSWER. */
      answer: z.boolean().optional(),
    }),
  ])
  .transform((c) => (c === true ? {} : c));

const rejectSchema = z
  .union([status, z.strictObject({ status, reason: z.string().trim().min(1).max(100).optional() })])
  .transform((r) => (typeof r === 'number' ? { status: r } : r));

const transferSchema = z.string().trim().min(1, 'must name a target: a number or a sip: URI');

const ACTIONS = ['agent', 'stream', 'clients', 'webhook', 'reject', 'transfer'] as const;
export type ActionName = (typeof ACTIONS)[number];

/** Every action but webhook (what a webhook's reply, or its fallback, may say). */
const finalActions = (agent: typeof agentSchema | typeof fileAgentSchema) => ({
  agent: agent.optional(),
  stream: streamSchema.optional(),
  clients: clientsSchema.optional(),
  reject: rejectSchema.optional(),
  transfer: transferSchema.optional(),
});

/** Exactly one of the action keys is set. */
const oneAction =
  (allowed: readonly string[]) =>
  (v: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    const set = allowed.filter((k) => v[k] !== undefined);
    if (set.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message:
          set.length === 0
            ? `needs one action: ${allowed.join(', ')}`
            : `has ${set.length} actions (${set.join(', ')}): give exactly one`,
      });
  };

const FINAL = ACTIONS.filter((a) => a !== 'webhook');

/** A webhook's reply, or a route's webhook fallback: one action, never a webhook, never a file read. */
export const actionSchema = z.strictObject(finalActions(agentSchema)).superRefine(oneAction(FINAL));
export type Action = z.output<typeof actionSchema>;

const webhookSchema = z.strictObject({
  /** Default: CALL_WEBHOOK_URL. */
  url: httpUrl.optional(),
  timeoutMs: z.number().int().min(100).max(30_000).default(3000),
  /** SIP headers of the INVITE sent along (by name, case-insensitive). */
  headers: z
    .array(
      z
        .string()
        .trim()
        .regex(/^[A-Za-z0-9-]+$/, 'must be a header name'),
    )
    .default([]),
  /** What the call gets when the webhook is slow, fails or answers nonsense (default: reject 480). */
  fallback: z
    .strictObject(finalActions(fileAgentSchema))
    .superRefine(oneAction(FINAL))
    .default({ reject: { status: 480 } }),
});

export const routeSchema = z
  .strictObject({
    name: name.optional(),
    /** The called number: the Request-URI's user, or the To header's. */
    to: patterns.optional(),
    /** The caller: the From header's user. */
    from: patterns.optional(),
    /** The trunk the call came in on (by its sources). */
    trunk: z.union([name, z.array(name).min(1)]).optional(),
    /** The address the INVITE came from. */
    source: cidrs.optional(),
    ...finalActions(fileAgentSchema),
    webhook: webhookSchema.optional(),
  })
  .superRefine(oneAction(ACTIONS));
export type RouteEntry = z.output<typeof routeSchema>;

export const trunkSchema = z.strictObject({
  name,
  host: z.string().trim().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
  /** The user in our From (and the registered address): defaults to `username`. */
  from: z.string().trim().min(1).optional(),
  username: z.string().trim().min(1).optional(),
  password: z.string().optional(),
  /** Send REGISTER (with the credentials) and keep it refreshed. */
  register: z.boolean().default(false),
  registerExpires: z.number().int().min(60).max(86_400).default(3600),
  /** Outgoing calls to numbers with one of these prefixes leave through this trunk. */
  prefixes: z
    .array(
      z
        .string()
        .trim()
        .regex(/^\+?[0-9*#]*$/, 'must be digits, optionally after +'),
    )
    .default([]),
  /** Where its incoming INVITEs may come from (default: its host, when that is an IP address). */
  sources: cidrs.optional(),
  /** Outgoing calls through it at once, and new ones per second (toll-fraud limits). */
  maxCalls: z.number().int().min(1).optional(),
  callsPerSecond: z.number().positive().optional(),
});
export type TrunkEntry = z.output<typeof trunkSchema>;

export const routesFileSchema = z
  .strictObject({
    trunks: z.array(trunkSchema).default([]),
    routes: z.array(routeSchema).min(1, 'needs at least one route'),
    /** Number prefixes no outgoing call may dial (premium numbers), whatever the trunk. */
    denyPrefixes: z
      .array(
        z
          .string()
          .trim()
          .regex(/^\+?[0-9*#]+$/, 'must be digits'),
      )
      .default([]),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.trunks.forEach((t, i) => {
      if (seen.has(t.name))
        ctx.addIssue({ code: 'custom', path: ['trunks', i, 'name'], message: `${t.name} is named twice` });
      seen.add(t.name);
      if (t.register && !t.username)
        ctx.addIssue({ code: 'custom', path: ['trunks', i, 'username'], message: 'is required to register' });
    });
    file.routes.forEach((r, i) => {
      for (const t of r.trunk === undefined ? [] : Array.isArray(r.trunk) ? r.trunk : [r.trunk])
        if (!seen.has(t))
          ctx.addIssue({ code: 'custom', path: ['routes', i, 'trunk'], message: `no trunk is named ${t}` });
    });
  });
export type RoutesFile = z.output<typeof routesFileSchema>;

/** zod's issues as `where: what` lines (`routes[2].agent.voice: ...`). */
export function issueLines(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const where = i.path
      .map((p, n) => (typeof p === 'number' ? `[${p}]` : n === 0 ? String(p) : `.${String(p)}`))
      .join('');
    return where ? `${where}: ${i.message}` : i.message;
  });
}
