import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/io/webhooks/signature.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import { callCenterEnv } from '../helpers/ai-env.ts';
import { concatSamples, speechLike } from '../helpers/audio.ts';
import { startFakeOpenAi } from '../helpers/fake-openai.ts';
import { freeUdpPort, hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller } from '../helpers/sipp.ts';

const SECRET = 'status-secret-for-tests';

interface Received {
  id: string | undefined;
  verified: boolean;
  body: Record<string, unknown> & { type: string; callId: string };
}

/** A receiver of status callbacks on `port` (0: any): answers `statuses` in turn, then 200. */
async function startReceiver(port = 0, statuses: number[] = []) {
  const got: Received[] = [];
  let answers = 0;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const status = statuses[answers++] ?? 200;
      if (status === 200)
        got.push({
          id: req.headers['x-relay-event-id'] as string | undefined,
          verified: verifyWebhook(SECRET, req.headers['x-relay-signature'] as string, raw, Date.now() / 1000)
            .ok,
          body: JSON.parse(raw),
        });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    got,
    requests: () => answers,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe.skipIf(!hasBinary('sipp'))(
  'status callbacks and call detail records (sipp caller, AI on the call)',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'status-'));
    const turns = join(dir, 'turns.ulaw');
    writeFileSync(turns, encodeG711('PCMU', concatSamples(speechLike(8000, 1.5, 31), new Int16Array(8000))));

    it('a call gives incoming, answered and ended (its CDR) in order, signed, retried after a 500; CDR_FILE has the same record', async () => {
      const receiver = await startReceiver(0, [500]);
      const fake = await startFakeOpenAi({
        transcribe: () => 'Is anybody there?',
        reply: () => 'Yes, I am here.',
      });
      const cdrFile = join(dir, 'cdr', 'calls.jsonl');
      const relay = await startTestRelay({
        ...callCenterEnv(fake),
        AI_VAD: 'energy',
        RECORDING: 'true',
        RECORDING_DIR: join(dir, 'rec'),
        CDR_FILE: cdrFile,
        EVENTS_WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/status`,
        EVENTS_SPOOL_DIR: join(dir, 'spool-1'),
        METRICS_PORT: String(await freeUdpPort()),
        WEBHOOK_SECRET: SECRET,
        RTP_PORT_START: '49400',
        RTP_PORT_END: '49499',
      });
      try {
        const caller = relayCaller('uac-wait-bye.xml', relay.sip.port, turns, { service: '5551234' });
        const chats = () => fake.requests.filter((r) => r.path === '/v1/chat/completions');
        await until(() => chats().length > 0, 15_000);
        await until(
          () => (relay.ai?.size ?? 0) > 0 && relay.ai!.agent(relay.calls.list()[0]!.callId) !== undefined,
          5000,
        );
        await new Promise((r) => setTimeout(r, 800)); // the reply is spoken
        const callId = relay.calls.list()[0]!.callId;
        relay.calls.hangup(callId);
        expect((await caller).code).toBe(0);
        await until(() => receiver.got.some((g) => g.body.type === 'call.ended'), 10_000);
        // the first attempt got 500: the event was sent again and nothing was lost or repeated
        expect(receiver.requests()).toBe(receiver.got.length + 1);
        expect(relay.status!.counts).toMatchObject({ failedAttempts: 1, dropped: 0 });
        expect(receiver.got.map((g) => g.body.type)).toEqual([
          'call.incoming',
          'call.answered',
          'call.ended',
        ]);
        expect(receiver.got.every((g) => g.verified && g.id === g.body.id)).toBe(true);
        expect(receiver.got[0]!.body).toMatchObject({
          callId,
          source: expect.stringMatching(/^127\.0\.0\.1:/),
        });

        const record = receiver.got[2]!.body.record as Record<string, unknown>;
        expect(record).toMatchObject({
          callId,
          direction: 'incoming',
          from: 'sipp',
          to: '5551234',
          route: 'default',
          endReason: 'local-hangup',
          codec: 'PCMU',
          transfers: [],
        });
        const rtp = record.rtp as { sent: number; received: number; lost: number };
        expect(rtp.sent).toBeGreaterThan(50);
        expect(rtp.received).toBeGreaterThan(50);
        expect(record.mos).toBeGreaterThan(4);
        // talkS is the monotonic clock's, rounded to 0.1 s; answer and end are wall-clock times: up to 50 ms
        // apart by the rounding alone (2,550 ms against 2.6 s once), and a few ms more between the readings
        expect(
          Math.abs(
            Date.parse(String(record.end)) - Date.parse(String(record.answer)) - Number(record.talkS) * 1000,
          ),
        ).toBeLessThanOrEqual(75);
        expect(existsSync(String(record.recording))).toBe(true);
        const ai = record.ai as {
          turns: number;
          transcript: unknown[];
          latency: Array<Record<string, number>>;
        };
        expect(ai.transcript.slice(0, 2)).toEqual([
          { who: 'caller', text: 'Is anybody there?' },
          { who: 'agent', text: 'Yes, I am here.' },
        ]);
        expect(ai.turns).toBeGreaterThan(0);
        expect(ai.latency[0]).toHaveProperty('stt.done');

        // the CDR file: the same record, one line
        await until(() => existsSync(cdrFile) && readFileSync(cdrFile, 'utf8').endsWith('\n'), 3000);
        const lines = readFileSync(cdrFile, 'utf8').trim().split('\n');
        expect(lines).toHaveLength(1);
        expect(JSON.parse(lines[0]!)).toEqual(record);
        // delivered events leave the spool
        expect(readdirSync(join(dir, 'spool-1')).filter((f) => f.endsWith('.json'))).toEqual([]);
        const metrics = await (await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`)).text();
        expect(metrics).toMatch(/status_callbacks_total\{outcome="delivered"\} 3/);
        expect(metrics).toMatch(/status_callbacks_total\{outcome="failed"\} 1/);
        expect(metrics).toMatch(/status_callbacks_spooled 0/);
      } finally {
        await relay.close();
        await fake.close();
        await receiver.close();
      }
    }, 40_000);

    it('events the receiver could not take before a restart are delivered by the next relay from the spool', async () => {
      const port = await freeUdpPort(); // a TCP port too, free at the moment: nothing listens there yet
      const spool = join(dir, 'spool-2');
      const env = {
        EVENTS_WEBHOOK_URL: `http://127.0.0.1:${port}/status`,
        EVENTS_SPOOL_DIR: spool,
        WEBHOOK_SECRET: SECRET,
        RTP_PORT_START: '49400',
        RTP_PORT_END: '49499',
      };
      const first = await startTestRelay(env);
      const caller = relayCaller('uac-wait-bye.xml', first.sip.port, turns, { service: '777' });
      await until(() => first.calls.list().length === 1, 5000);
      const callId = first.calls.list()[0]!.callId;
      await new Promise((r) => setTimeout(r, 300));
      first.calls.hangup(callId);
      expect((await caller).code).toBe(0);
      await until(() => (first.status?.counts.failedAttempts ?? 0) > 0, 5000);
      await first.close();
      const kept = readdirSync(spool).filter((f) => f.endsWith('.json'));
      expect(kept).toHaveLength(3);

      const receiver = await startReceiver(port);
      const second = await startTestRelay(env);
      try {
        await until(() => receiver.got.length === 3, 5000);
        expect(receiver.got.map((g) => [g.body.type, g.body.callId])).toEqual([
          ['call.incoming', callId],
          ['call.answered', callId],
          ['call.ended', callId],
        ]);
        expect(receiver.got.every((g) => g.verified)).toBe(true);
        expect(readdirSync(spool).filter((f) => f.endsWith('.json'))).toEqual([]);
      } finally {
        await second.close();
        await receiver.close();
      }
    }, 40_000);
  },
);
