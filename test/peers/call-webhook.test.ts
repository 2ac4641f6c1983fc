import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { verifyWebhook } from '../../src/io/webhooks/signature.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import { openAiEnv } from '../helpers/ai-env.ts';
import { speechLike } from '../helpers/audio.ts';
import { startFakeOpenAi } from '../helpers/fake-openai.ts';
import { hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, type SippRun } from '../helpers/sipp.ts';
import { wsClient } from '../helpers/ws-client.ts';

type Event = Record<string, unknown> & { type: string };
const SECRET = 'webhook-secret-for-tests';

const refusedWith = (r: SippRun) => r.messages().match(/SIP\/2\.0 ([4-6]\d\d) /)?.[1];

interface Hook {
  body: Record<string, unknown>;
  verified: boolean;
}

/** A local app: answers each call webhook by the number called (`reply`), and checks every signature. */
async function startApp(reply: (to: string) => { status?: number; delayMs?: number; body: string }) {
  const hooks: Hook[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      const sig = req.headers['x-relay-signature'] as string | undefined;
      hooks.push({ body, verified: verifyWebhook(SECRET, sig, raw, Date.now() / 1000).ok });
      const r = reply(String(body.to));
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
        res.end(r.body);
      }, r.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    hooks,
    url,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * CALL_WEBHOOK_URL and webhook routes on a live relay: sipp calls numbers, a local app decides each call
 * (every action the routes file knows), and slow, failing or nonsensical answers fall back.
 */
describe.skipIf(!hasBinary('sipp'))('call webhook: a local app decides each call (sipp callers)', () => {
  it('every action from the reply, the INVITE headers asked for, signed requests; slow, failing or bad replies -> the fallback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-'));
    const voice = join(dir, 'voice.ulaw');
    writeFileSync(voice, encodeG711('PCMU', speechLike(8000, 1.5, 23)));
    // the bot a stream action points at
    const bot = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    const starts: Array<Record<string, unknown>> = [];
    bot.on('connection', (ws) =>
      ws.on('message', (d) => {
        const m = JSON.parse(String(d));
        if (m.event === 'start') starts.push(m.start);
      }),
    );
    await new Promise((r) => bot.on('listening', r));
    const botUrl = `ws://127.0.0.1:${(bot.address() as AddressInfo).port}/bot`;
    const app = await startApp((to) => {
      switch (to) {
        case '1001':
          return { body: JSON.stringify({ agent: { prompt: 'You help caller sipp with order 7.' } }) };
        case '1002':
          return { body: JSON.stringify({ stream: { url: botUrl, parameters: { customer: '42' } } }) };
        case '1003':
          return { body: JSON.stringify({ transfer: '1999' }) };
        case '1004':
          return { body: JSON.stringify({ reject: { status: 486 } }) };
        case '1005':
          return { body: JSON.stringify({ clients: { answer: true } }) };
        case '1006':
          return { delayMs: 1500, body: JSON.stringify({ clients: { answer: true } }) };
        case '1007':
          return { body: '{"agent": {"prompt": "x"}, "reject": 486}' };
        default:
          return { status: 500, body: '{}' };
      }
    });
    const routes = join(dir, 'routes.yaml');
    writeFileSync(
      routes,
      `
routes:
  - name: careful
    to: "2*"
    webhook:
      url: ${app.url}/careful
      fallback: { reject: 503 }
  - name: app
    webhook:
      timeoutMs: 500
      headers: [Call-ID, x-missing]
`,
    );
    const fake = await startFakeOpenAi({
      transcribe: () => 'Where is my order?',
      reply: () => 'On its way.',
    });
    const relay = await startTestRelay({
      ROUTES_FILE: routes,
      CALL_WEBHOOK_URL: `${app.url}/call`,
      WEBHOOK_SECRET: SECRET,
      ...openAiEnv(fake),
      AI_VAD: 'energy',
      RTP_PORT_START: '49300',
      RTP_PORT_END: '49399',
    });
    const { ws: monitor, got: events } = await wsClient<Event>(
      `ws://127.0.0.1:${relay.ws.port}/v1`,
      JSON.parse,
    );
    const port = relay.sip.port;
    const answered = (n: number) => events.filter((e) => e.type === 'call.answered').length >= n;
    const hangUpLast = () => {
      const id = String(events.filter((e) => e.type === 'call.incoming').at(-1)!.callId);
      relay.calls.hangup(id);
      return id;
    };
    try {
      // agent: the prompt the app chose for this caller reaches the model
      const agentCall = relayCaller('uac-wait-bye.xml', port, voice, { service: '1001', loops: 1 });
      const chats = () => fake.requests.filter((r) => r.path === '/v1/chat/completions');
      await until(() => chats().length === 1, 15_000);
      const id1001 = hangUpLast();
      expect((await agentCall).code).toBe(0);
      const chat = chats()[0]!.body as { messages: Array<{ role: string; content: string }> };
      expect(chat.messages[0]).toEqual({ role: 'system', content: 'You help caller sipp with order 7.' });
      // what the app was told: the call's facts and the one INVITE header asked for that was there
      expect(app.hooks[0]!.body).toEqual({
        event: 'call.incoming',
        callId: id1001,
        to: '1001',
        from: 'sipp',
        source: '127.0.0.1',
        route: 'app',
        headers: { 'call-id': id1001 },
      });

      // stream: the bot gets the call with the app's parameters
      const streamCall = relayCaller('uac-wait-bye.xml', port, voice, { service: '1002' });
      await until(() => starts.length === 1, 10_000);
      const id1002 = hangUpLast();
      expect((await streamCall).code).toBe(0);
      expect(starts[0]!.customParameters).toEqual({ callId: id1002, customer: '42' });

      // transfer: answered, then REFERred to the app's target (sipp reports it done; the relay hangs up)
      const transfer = await relayCaller('uac-refer.xml', port, voice, {
        service: '1003',
        keys: ['-key', 'frag', '200 OK'],
      });
      expect(transfer.code, `${transfer.errors()}\n${transfer.messages().slice(-3000)}`).toBe(0);
      expect(transfer.messages()).toMatch(/Refer-To: <?sip:1999@127\.0\.0\.1/);

      // reject, and clients (answered at once, as the app asked)
      expect(refusedWith(await relayCaller('uac-refused.xml', port, undefined, { service: '1004' }))).toBe(
        '486',
      );
      const clientsCall = relayCaller('uac-wait-bye.xml', port, voice, { service: '1005' });
      await until(() => answered(4), 10_000);
      hangUpLast();
      expect((await clientsCall).code).toBe(0);

      // too slow (1.5 s > timeoutMs 500), two actions at once, HTTP 500: the default fallback, 480
      expect(refusedWith(await relayCaller('uac-refused.xml', port, undefined, { service: '1006' }))).toBe(
        '480',
      );
      expect(refusedWith(await relayCaller('uac-refused.xml', port, undefined, { service: '1007' }))).toBe(
        '480',
      );
      expect(refusedWith(await relayCaller('uac-refused.xml', port, undefined, { service: '1999' }))).toBe(
        '480',
      );
      // a route's own fallback (503) where its webhook fails
      expect(refusedWith(await relayCaller('uac-refused.xml', port, undefined, { service: '2000' }))).toBe(
        '503',
      );

      expect(app.hooks.map((h) => h.body.to)).toEqual([
        '1001',
        '1002',
        '1003',
        '1004',
        '1005',
        '1006',
        '1007',
        '1999',
        '2000',
      ]);
      expect(app.hooks.at(-1)!.body.route).toBe('careful');
      expect(app.hooks.every((h) => h.verified)).toBe(true);
    } finally {
      monitor.close();
      await relay.close();
      await fake.close();
      await app.close();
      bot.close();
    }
  }, 90_000);
});
