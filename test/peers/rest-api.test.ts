import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import { speechLike } from '../helpers/audio.ts';
import { freeUdpPort, hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, sipp } from '../helpers/sipp.ts';

const TOKEN = 'rest-token-for-tests';

type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { example?: unknown }> };
};
type Operation = {
  requestBody?: { content: { 'application/json': { schema: { $ref?: string; example?: unknown } } } };
  responses: Record<string, unknown>;
};

/** The example of an operation's JSON body (its schema's, through a $ref). */
function exampleOf(doc: Doc, op: Operation): unknown {
  const schema = op.requestBody?.content['application/json'].schema;
  if (!schema) return undefined;
  if (schema.$ref) return doc.components.schemas[schema.$ref.split('/').at(-1)!]?.example;
  return schema.example;
}

describe.skipIf(!hasBinary('sipp'))('REST API (/v1): every endpoint against a live relay and sipp', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rest-'));
  const voice = join(dir, 'voice.ulaw');
  writeFileSync(voice, encodeG711('PCMU', speechLike(8000, 1, 41)));

  it('the OpenAPI 3.1 document is valid, and each of its example requests does what it says on a live call', async () => {
    const upstream = await freeUdpPort();
    // the upstream server the dial example reaches: answers (offering telephone-event), waits for our BYE
    const uas = sipp(
      'uas-answer.xml',
      undefined,
      ['-m', '1', '-mi', '127.0.0.1', '-trace_msg'],
      30_000,
      upstream,
    );
    const relay = await startTestRelay({
      WS_TOKEN: TOKEN,
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(upstream),
      AUTO_ANSWER: 'true',
      RTP_PORT_START: '49500',
      RTP_PORT_END: '49599',
    });
    const base = `http://127.0.0.1:${relay.ws.port}`;
    const api = (method: string, path: string, body?: unknown, token: string | null = TOKEN) =>
      fetch(`${base}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
    try {
      const res = await api('GET', '/v1/openapi.json');
      expect(res.status).toBe(200);
      const doc = (await res.json()) as Doc;
      const validation = await new Validator().validate(doc as never);
      expect(validation.errors ?? [], JSON.stringify(validation.errors)).toEqual([]);
      expect(validation.valid).toBe(true);
      expect((doc as unknown as { openapi: string }).openapi).toBe('3.1.0');

      // POST /v1/calls with its example: a call out to the upstream sipp, answered
      const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
      );
      expect(ops.map((o) => `${o.method} ${o.path}`).sort()).toEqual([
        'DELETE /v1/calls/{id}',
        'GET /v1/calls',
        'GET /v1/calls/{id}',
        'POST /v1/calls',
        'POST /v1/calls/{id}/dtmf',
        'POST /v1/calls/{id}/play',
        'POST /v1/calls/{id}/transfer',
      ]);
      const dialOp = ops.find((o) => o.method === 'POST' && o.path === '/v1/calls')!;
      const dialed = await api('POST', '/v1/calls', exampleOf(doc, dialOp.op));
      expect(dialed.status, await dialed.clone().text()).toBe(201);
      const out = (await dialed.json()) as { callId: string; direction: string; to: string };
      expect(out).toMatchObject({ direction: 'outgoing', to: `sip:1001@127.0.0.1:${upstream}` });
      expect(dialed.headers.get('location')).toBe(`/v1/calls/${encodeURIComponent(out.callId)}`);
      await until(() => relay.calls.call(out.callId)?.state === 'established', 5000);
      // the example's action: an agent on the call (the environment's provider, echo here)
      expect(relay.calls.plan(out.callId)?.agent?.prompt).toBe(
        "You remind the customer of tomorrow's appointment.",
      );

      // an incoming call from a sipp that takes REFERs: the transfer example's call
      const transferee = relayCaller('uac-refer.xml', relay.sip.port, voice, {
        keys: ['-key', 'frag', '200 OK'],
      });
      await until(
        () => relay.calls.list().some((c) => c.direction === 'incoming' && c.state === 'established'),
        5000,
      );
      const incoming = relay.calls.list().find((c) => c.direction === 'incoming')!.callId;

      // GETs: the list and each call
      const list = (await (await api('GET', '/v1/calls')).json()) as { calls: Array<{ callId: string }> };
      expect(list.calls.map((c) => c.callId).sort()).toEqual([out.callId, incoming].sort());
      const one = (await (await api('GET', `/v1/calls/${encodeURIComponent(incoming)}`)).json()) as Record<
        string,
        unknown
      >;
      expect(one).toMatchObject({
        callId: incoming,
        direction: 'incoming',
        state: 'established',
        route: 'default',
      });
      expect(Date.parse(String(one.answeredAt))).toBeGreaterThanOrEqual(Date.parse(String(one.startedAt)));

      // every other example, on the call it is for
      for (const { path, method, op } of ops) {
        if (method === 'GET' || (method === 'POST' && path === '/v1/calls') || method === 'DELETE') continue;
        const id = path.endsWith('/transfer') ? incoming : out.callId;
        const r = await api(method, path.replace('{id}', encodeURIComponent(id)), exampleOf(doc, op));
        const expected = Object.keys(op.responses).find((s) => s.startsWith('2'));
        expect(r.status, `${method} ${path}: ${await r.clone().text()}`).toBe(Number(expected));
        expect(await r.json()).toEqual({ status: 'accepted' });
      }
      // the transfer example REFERred the incoming call to 1002; sipp reported 200 and the relay hung up
      const t = await transferee;
      expect(t.code, t.stdout.slice(-1500)).toBe(0);
      expect(t.messages()).toMatch(/Refer-To: <?sip:1002@127\.0\.0\.1/);

      // DELETE hangs up the call out: the upstream sipp gets our BYE and ends cleanly
      const del = await api('DELETE', `/v1/calls/${encodeURIComponent(out.callId)}`);
      expect(del.status).toBe(204);
      const u = await uas;
      expect(u.code, u.stdout.slice(-1500)).toBe(0);

      // problems (RFC 9457): unknown call, bad body, no token, not found, wrong state
      const missing = await api('GET', '/v1/calls/nosuch');
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      expect(await missing.json()).toEqual({
        type: 'urn:sip-relay:problem:unknown_call',
        title: 'Not Found',
        status: 404,
        detail: 'no call nosuch',
        instance: '/v1/calls/nosuch',
        code: 'unknown_call',
      });
      const bad = await api('POST', '/v1/calls', { to: 'not a number!', extra: 1 });
      expect(bad.status).toBe(400);
      const badBody = (await bad.json()) as { code: string; errors: Array<{ path: string }> };
      expect(badBody.code).toBe('bad_request');
      expect(badBody.errors.map((e) => e.path).sort()).toEqual(['(body)', 'to']);
      expect((await api('POST', '/v1/calls', '{not json')).status).toBe(400);
      const noToken = await api('GET', '/v1/calls', undefined, null);
      expect(noToken.status).toBe(401);
      expect(((await noToken.json()) as { code: string }).code).toBe('unauthorized');
      expect((await api('GET', '/v1/calls', undefined, 'wrong-token-xxxxxxx')).status).toBe(401);
      expect((await api('GET', '/v1/nothing')).status).toBe(404);
      expect((await api('POST', '/v1/calls/nosuch/dtmf', { digits: '1' })).status).toBe(404);
      // the WebSocket paths still want an upgrade
      expect((await fetch(`${base}/`)).status).toBe(426);
    } finally {
      await relay.close();
    }
  }, 60_000);
});
