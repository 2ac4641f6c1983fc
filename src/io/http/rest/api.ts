import type { IncomingMessage, RequestListener } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { createRoute, OpenAPIHono, type z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../../../kernel/logger.ts';
import type { CallManager } from '../../../machines/call-manager.ts';
import type { CallPlan } from '../../../routing/plan.ts';
import { actionDecision, type RouteTable } from '../../../routing/router.ts';
import type { CallControl, ControlCommand, ControlResult } from '../../calls/call-control.ts';
import { parseBoundedJson } from '../../json-limits.ts';
import type { CallRecords } from '../../records/call-records.ts';
import { originAllowed, presentsToken } from '../../ws/access.ts';
import { MAX_MESSAGE_BYTES } from '../../ws/limits.ts';
import {
  Accepted,
  CallIdParam,
  CallInfo,
  CallList,
  DialRequest,
  DtmfRequest,
  PlayRequest,
  Problem,
  TransferRequest,
} from './schemas.ts';

/** What the REST API uses of the calls (a narrow port: the call manager provides it). */
export type RestCalls = Pick<CallManager, 'call' | 'dial' | 'list' | 'parties'>;

/** Call-control error codes (the JSON protocol's) as HTTP statuses. */
const STATUS: Record<string, number> = {
  unknown_call: 404,
  invalid_state: 409,
  no_media: 409,
  no_dtmf: 409,
  queue_full: 409,
  bad_target: 400,
  bad_audio: 400,
  forbidden_target: 403,
  bad_request: 400,
  unauthorized: 401,
  forbidden_origin: 403,
  not_found: 404,
  too_large: 413,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

type ProblemBody = z.infer<typeof Problem>;

/** An RFC 9457 problem response (application/problem+json). */
function problem(
  c: Context,
  status: number,
  code: string,
  detail: string,
  errors?: ProblemBody['errors'],
): Response {
  const body: ProblemBody = {
    type: `urn:sip-relay:problem:${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    instance: c.req.path,
    code,
    ...(errors ? { errors } : {}),
  };
  return c.body(JSON.stringify(body), status as 400, { 'content-type': 'application/problem+json' });
}

/** Ends a handler with a problem response (handlers return only their success types). */
function fail(c: Context, status: number, code: string, detail: string): never {
  throw new HTTPException(status as 400, { res: problem(c, status, code, detail) });
}

const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: TITLES[s] ?? 'Error', content: { 'application/problem+json': { schema: Problem } } },
    ]),
  );

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});

/** What @hono/node-server hands each request: the Node request (token and address checks). */
type NodeEnv = { Bindings: { incoming: IncomingMessage } };

export interface RestDeps {
  readonly calls: RestCalls;
  readonly control: CallControl;
  readonly records: CallRecords;
  /** The routes of the moment (defaults for a dial's action). */
  readonly table: () => RouteTable;
  readonly token: string | undefined;
  readonly origins: readonly string[] | undefined;
  readonly log: Logger;
}

/**
 * The REST API on the WebSocket server's port (/v1/...), with the same rules: WS_TOKEN as `Authorization:
 * Bearer` or `?token=`, browsers only from WS_ORIGINS (or loopback pages). Built with Hono and
 * @hono/zod-openapi: each route is declared once with its zod schemas, which validate the request and make
 * the OpenAPI 3.1 document at /v1/openapi.json. Errors are RFC 9457 problem details. Call control is the
 * JSON WebSocket protocol's (CallControl), so both behave alike.
 */
export function restApi(deps: RestDeps): { app: OpenAPIHono<NodeEnv>; listener: RequestListener } {
  const app = new OpenAPIHono<NodeEnv>({
    // a request that fails its schema: 400 with each invalid field
    defaultHook: (result, c) => {
      if (result.success) return undefined;
      const errors = result.error.issues.map((i) => ({
        path: i.path.join('.') || '(body)',
        message: i.message,
      }));
      return problem(c, 400, 'bad_request', errors.map((e) => `${e.path}: ${e.message}`).join('; '), errors);
    },
  });

  app.use('*', async (c, next) => {
    const origin = c.req.header('origin');
    if (!originAllowed(origin, deps.origins))
      return problem(c, 403, 'forbidden_origin', `Origin ${origin} may not call this API`);
    if (deps.token && !presentsToken(c.env.incoming, deps.token))
      return problem(c, 401, 'unauthorized', 'give WS_TOKEN as Authorization: Bearer <token> or ?token=');
    return next();
  });
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_MESSAGE_BYTES,
      onError: (c) => problem(c, 413, 'too_large', `requests are at most ${MAX_MESSAGE_BYTES} bytes`),
    }),
  );
  // JSON bodies are checked for depth and item counts before they are parsed and validated (json-limits.ts)
  app.use('*', async (c, next) => {
    if (!/^application\/(.+\+)?json\b/i.test(c.req.header('content-type') ?? '')) return next();
    const r = parseBoundedJson(await c.req.text());
    if (!r.ok)
      return r.kind === 'items'
        ? problem(c, 413, 'too_large', r.message)
        : problem(c, 400, 'bad_request', r.message);
    c.req.bodyCache.json = Promise.resolve(r.value);
    return next();
  });
  app.notFound((c) => problem(c, 404, 'not_found', `no ${c.req.method} ${c.req.path}`));
  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    deps.log.error({ err: err.stack ?? String(err), path: c.req.path }, 'REST API handler failed');
    return problem(c, 500, 'internal', 'the request failed inside the relay (logged)');
  });

  const info = (callId: string): z.infer<typeof CallInfo> | undefined => {
    const call = deps.calls.call(callId);
    const parties = deps.calls.parties(callId);
    if (!call || !parties) return undefined;
    const t = deps.records.times(callId);
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    return {
      callId,
      direction: parties.direction,
      state: call.state,
      from: parties.from,
      to: parties.to,
      trunk: call.plan?.trunk ?? null,
      route: call.plan?.route ?? null,
      startedAt: iso(t?.start),
      answeredAt: iso(t?.answer),
    };
  };

  /** Runs a call command and answers 202 (`accepted`) or its problem. */
  const run = async (c: Context, cmd: ControlCommand) => {
    const r: ControlResult = await deps.control.run(cmd);
    if (!r.ok) return fail(c, STATUS[r.code] ?? 400, r.code, r.message);
    return c.json(
      { status: 'accepted' as const, ...(r.consultCallId ? { consultCallId: r.consultCallId } : {}) },
      202,
    );
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/calls',
      summary: 'Place a call',
      description:
        "Dials `to` through the trunk named, else the trunk whose prefixes match, else SIP_SERVER_IP. The deny list and the trunk's limits apply. Answers once the INVITE is sent; follow the call with GET or the WebSocket events.",
      request: body(DialRequest),
      responses: {
        201: json(CallInfo, 'The call, being placed'),
        ...problems(400, 401, 403, 404, 429, 503),
      },
    }),
    async (c) => {
      const req = c.req.valid('json');
      let plan: CallPlan | undefined;
      if (req.action && Object.values(req.action).some((v) => v !== undefined)) {
        const d = actionDecision(req.action, 'api', req.trunk, deps.table().defaults);
        if (d.kind !== 'plan') return fail(c, 400, 'bad_request', 'that action cannot be used on a call out');
        plan = { ...d.plan, autoAnswer: false };
      }
      const r = await deps.calls.dial(req.to, { trunk: req.trunk, from: req.from, plan });
      if (!r.ok) return fail(c, r.status >= 400 && r.status < 600 ? r.status : 502, 'dial_failed', r.reason);
      const call = info(r.callId);
      if (!call) return fail(c, 502, 'dial_failed', 'the call ended at once');
      c.header('location', `/v1/calls/${encodeURIComponent(r.callId)}`);
      return c.json(call, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/calls',
      summary: 'The live calls',
      responses: { 200: json(CallList, 'Every call that has not ended'), ...problems(401) },
    }),
    (c) => {
      const calls = deps.calls
        .list()
        .map((l) => info(l.callId))
        .filter((x) => x !== undefined);
      return c.json({ calls }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/v1/calls/{id}',
      summary: 'One live call',
      request: { params: CallIdParam },
      responses: { 200: json(CallInfo, 'The call'), ...problems(401, 404) },
    }),
    (c) => {
      const { id } = c.req.valid('param');
      const call = info(id);
      return call ? c.json(call, 200) : fail(c, 404, 'unknown_call', `no call ${id}`);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/v1/calls/{id}',
      summary: 'Hang up (BYE; CANCEL while ringing out; 480 to a ringing caller)',
      request: { params: CallIdParam },
      responses: {
        202: json(Accepted, 'A call out with no provisional response yet: it ends once it can be cancelled'),
        204: { description: 'Hung up' },
        ...problems(401, 404, 409),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const r = await deps.control.run({ type: 'call.hangup', callId: id });
      if (!r.ok) return fail(c, STATUS[r.code] ?? 400, r.code, r.message);
      // RFC 3261 9.1: no CANCEL before a provisional response; the call stays until one comes (the CANCEL
      // then goes out) or its INVITE times out (64*T1): say so instead of a 204 that looks final
      if (deps.calls.call(id)?.state === 'inviting.cancelPending')
        return c.json(
          {
            status: 'accepted' as const,
            detail:
              'no provisional response yet: the CANCEL goes out when one arrives (RFC 3261 9.1), else the call ends when its INVITE times out (32 s)',
          },
          202,
        );
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/calls/{id}/transfer',
      summary: 'Transfer the call (blind: REFER; attended: call the target first)',
      request: { params: CallIdParam, ...body(TransferRequest) },
      responses: { 202: json(Accepted, 'Transfer started'), ...problems(400, 401, 403, 404, 409) },
    }),
    (c) => {
      const { id } = c.req.valid('param');
      const t = c.req.valid('json');
      return run(c, { type: 'call.transfer', callId: id, target: t.target, mode: t.mode });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/calls/{id}/play',
      summary: 'Queue audio to play on the call',
      request: { params: CallIdParam, ...body(PlayRequest) },
      responses: { 202: json(Accepted, 'Queued'), ...problems(400, 401, 404, 409, 413) },
    }),
    (c) => {
      const { id } = c.req.valid('param');
      return run(c, { type: 'call.play', callId: id, ...c.req.valid('json') });
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/v1/calls/{id}/dtmf',
      summary: 'Send DTMF digits (RFC 4733 telephone-event)',
      request: { params: CallIdParam, ...body(DtmfRequest) },
      responses: { 202: json(Accepted, 'Sent'), ...problems(400, 401, 404, 409) },
    }),
    (c) => {
      const { id } = c.req.valid('param');
      return run(c, { type: 'call.dtmf', callId: id, digits: c.req.valid('json').digits });
    },
  );

  app.doc31('/v1/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'SIP relay REST API',
      version: '1.0.0',
      description:
        'Call control beside the WebSocket protocols, on the same port and with the same token. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });

  return { app, listener: getRequestListener(app.fetch) };
}
