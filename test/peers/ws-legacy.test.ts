import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeG711 } from '../../src/media/g711.ts';
import type { Relay } from '../../src/relay.ts';
import { speechLike } from '../helpers/audio.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, sipp, talkingCallers } from '../helpers/sipp.ts';
import { wsClient } from '../helpers/ws-client.ts';

/** A legacy client: collects every text event. */
async function client(port: number) {
  const { ws, got, until } = await wsClient(`ws://127.0.0.1:${port}/`, (t) => t);
  return { ws, got, until, control: () => got.filter((m) => !m.startsWith('RTP:')) };
}

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

describe.skipIf(!hasBinary('sipp'))('the original text protocol, byte for byte', () => {
  it('incoming call: RING_ANS, CALL_ANS, RTP:{pt}##{hex} of the caller, HANGUP -> BYE to the caller; two clients', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-legacy-'));
    const voice = encodeG711('PCMU', speechLike(8000, 2, 21));
    writeFileSync(join(dir, 'voice.ulaw'), voice);
    relay = await startTestRelay({ RTP_PORT_START: '47600', RTP_PORT_END: '47699' });
    const a = await client(relay.ws.port);
    const b = await client(relay.ws.port);
    const caller = talkingCallers(`127.0.0.1:${relay.sip.port}`, join(dir, 'voice.ulaw'), {});
    const ring = await a.until((m) => m.startsWith('RING_ANS:'));
    expect(ring, JSON.stringify(a.got.slice(0, 5))).toMatch(/^RING_ANS:sipp##\S+$/); // From "sipp <sip:sipp@...>;tag=..." cut at the first space
    const callId = ring!.split('##')[1]!;
    expect(await a.until((m) => m === `CALL_ANS:${callId}`)).toBeDefined();
    // one client leaving does not affect the other
    expect(await b.until((m) => m === `CALL_ANS:${callId}`)).toBeDefined();
    b.ws.close();
    await new Promise((r) => setTimeout(r, 100));
    const rtpBefore = a.got.filter((m) => m.startsWith('RTP:')).length;
    const rtp = await a.until(
      (m) => m.startsWith('RTP:') && a.got.filter((x) => x.startsWith('RTP:')).length > rtpBefore + 10,
    );
    expect(rtp).toMatch(/^RTP:0##[0-9a-f]{320}$/);
    expect(Buffer.from(voice).toString('hex')).toContain(rtp!.slice(7, 7 + 64)); // the caller's own bytes
    // a bad command gets an ERROR and the connection stays
    a.ws.send('FROBNICATE:1');
    expect(await a.until((m) => m.startsWith('ERROR:'))).toBe('ERROR:unknown command "FROBNICATE"');
    a.ws.send(`HANGUP:${callId}`);
    expect(await a.until((m) => m === `BYE:${callId}`)).toBeDefined();
    expect((await caller).code).toBe(0); // sipp got our BYE
    // both clients saw the same control events, in order
    expect(b.control()).toEqual([`RING_ANS:sipp##${callId}`, `CALL_ANS:${callId}`]);
    expect(a.control()).toEqual([
      `RING_ANS:sipp##${callId}`,
      `CALL_ANS:${callId}`,
      'ERROR:unknown command "FROBNICATE"',
      `BYE:${callId}`,
    ]);
    a.ws.close();
  }, 40_000);

  it("answering follows the call's route: CALL_ANS answers a route's clients: { answer: false } call under AUTO_ANSWER=true; CALL_IGNORE on a call that answers itself gets an ERROR", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-legacy-route-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 22)));
    const routes = join(dir, 'routes.yaml');
    writeFileSync(
      routes,
      'routes:\n  - name: desk\n    to: "2000"\n    clients: { answer: false }\n  - name: bot\n    to: "*"\n    clients: { answer: true }\n',
    );
    relay = await startTestRelay({
      AUTO_ANSWER: 'true',
      ROUTES_FILE: routes,
      RTP_PORT_START: '47600',
      RTP_PORT_END: '47699',
    });
    const a = await client(relay.ws.port);
    const desk = relayCaller('uac-wait-bye.xml', relay.sip.port, join(dir, 'voice.ulaw'), {
      service: '2000',
    });
    const ring = await a.until((m) => m.startsWith('RING_ANS:'));
    const callId = ring!.split('##')[1]!;
    await new Promise((r) => setTimeout(r, 300));
    expect(a.control()).toEqual([`RING_ANS:sipp##${callId}`]); // it rings: the route says a client answers
    a.ws.send(`CALL_ANS:${callId}`);
    expect(await a.until((m) => m === `CALL_ANS:${callId}`)).toBeDefined();
    a.ws.send(`HANGUP:${callId}`);
    expect(await a.until((m) => m === `BYE:${callId}`)).toBeDefined();
    expect((await desk).code).toBe(0);
    // a call whose route answers it: CALL_IGNORE cannot stop that, and says so
    const bot = relayCaller('uac-wait-bye.xml', relay.sip.port, join(dir, 'voice.ulaw'), { service: '3000' });
    const ring2 = await a.until((m) => m.startsWith('RING_ANS:') && !m.endsWith(callId));
    const botId = ring2!.split('##')[1]!;
    a.ws.send(`CALL_IGNORE:${botId}`);
    expect(await a.until((m) => m.startsWith('ERROR:'))).toBe(
      `ERROR:call ${botId} is answered automatically (AUTO_ANSWER or its route): hang up instead`,
    );
    a.ws.send(`HANGUP:${botId}`);
    expect(await a.until((m) => m === `BYE:${botId}`)).toBeDefined();
    await bot;
    a.ws.close();
  }, 40_000);

  it('CALL:{number} reaches sipp as an INVITE: CALL_IGNORE on 180, CALL_ANS on 200; busy gives CALL_FAILED:486 Busy Here', async () => {
    const port = await freeUdpPort();
    const uas = sipp('uas-answer.xml', undefined, ['-m', '1', '-trace_msg'], 30_000, port);
    await new Promise((r) => setTimeout(r, 300));
    relay = await startTestRelay({
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(port),
      RTP_PORT_START: '47700',
      RTP_PORT_END: '47799',
    });
    const c = await client(relay.ws.port);
    c.ws.send('CALL:0912341234');
    const ignore = await c.until((m) => m.startsWith('CALL_IGNORE:'));
    const id = ignore!.slice('CALL_IGNORE:'.length);
    expect(await c.until((m) => m === `CALL_ANS:${id}`)).toBeDefined();
    c.ws.send(`BYE:${id}`);
    expect(await c.until((m) => m === `BYE:${id}`)).toBeDefined();
    const r = await uas;
    expect(r.code).toBe(0);
    expect(r.messages()).toMatch(/INVITE sip:0912341234@127\.0\.0\.1:\d+ SIP\/2\.0/);
    c.ws.close();
    await relay.close();

    const busyPort = await freeUdpPort();
    const busy = sipp('uas-busy.xml', undefined, ['-m', '1'], 30_000, busyPort);
    await new Promise((r) => setTimeout(r, 300));
    relay = await startTestRelay({
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(busyPort),
      RTP_PORT_START: '47800',
      RTP_PORT_END: '47899',
    });
    const d = await client(relay.ws.port);
    d.ws.send('CALL:+886912341234');
    expect(await d.until((m) => m.startsWith('CALL_FAILED:'))).toBe('CALL_FAILED:486 Busy Here');
    expect((await busy).code).toBe(0);
    d.ws.close();
  }, 40_000);

  it('bad input: each malformed command gets an ERROR reply; 2 MiB of garbage and binary frames too', async () => {
    relay = await startTestRelay({ RTP_PORT_START: '47900', RTP_PORT_END: '47999' });
    const c = await client(relay.ws.port);
    const cases: Array<[string | Buffer, string]> = [
      ['CALL:12ab', 'ERROR:bad number "12ab"'],
      ['CALL:123', 'ERROR:bad number "123"'],
      ['RTP:nope##AAAAAA==', 'ERROR:unknown call nope'],
      ['RTP:x##***', 'ERROR:bad base64'],
      ['RTP:x##AAAA', 'ERROR:odd byte count: audio is 16-bit PCM'],
      ['HANGUP:ghost', 'ERROR:unknown call ghost'],
      ['BYE', 'ERROR:no active call'],
      ['CALL_ANS:ghost', 'ERROR:unknown call ghost'],
      [`X${'x'.repeat(2 * 1024 * 1024)}`, 'ERROR:unknown command'],
      [Buffer.from([1, 2, 3]), 'ERROR:binary frames are not supported: send text'],
    ];
    for (const [cmd, want] of cases) {
      const before = c.got.length;
      c.ws.send(cmd);
      let reply: string | undefined;
      for (let i = 0; i < 200 && !reply; i++) {
        reply = c.got.slice(before).find((m) => m.startsWith('ERROR:'));
        if (!reply) await new Promise((r) => setTimeout(r, 10));
      }
      expect(reply?.startsWith(want), `${String(cmd).slice(0, 20)} -> ${reply}`).toBe(true);
    }
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    c.ws.close();
  });
});
