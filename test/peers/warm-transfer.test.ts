import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import { envelopeCorrelation, speechLike, wavFile } from '../helpers/audio.ts';
import { baresipConfig, baresipRecording } from '../helpers/baresip.ts';
import { freeSipPort, freeUdpPort, hasBinary, run, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';
import { wsClient } from '../helpers/ws-client.ts';

type Msg = Record<string, unknown> & { type: string; at: number };

const rms = (x: Int16Array) => Math.sqrt(x.reduce((a, v) => a + v * v, 0) / Math.max(1, x.length));
const secs = (x: Int16Array, from: number, to?: number) =>
  x.subarray(Math.max(0, Math.round(from * 8000)), to === undefined ? undefined : Math.round(to * 8000));

async function jsonClient(port: number) {
  const c = await wsClient(
    `ws://127.0.0.1:${port}/v1`,
    (t) => ({ ...JSON.parse(t), at: performance.now() }) as Msg,
  );
  const request = async (cmd: Record<string, unknown>, ms = 8000) => {
    c.ws.send(JSON.stringify(cmd));
    return c.until((m) => (m.type === 'ack' || m.type === 'error') && m.id === cmd.id, ms);
  };
  return { ...c, request };
}

/**
 * Warm (attended) transfer with the relay in the media path: the caller waits, the relay calls the human,
 * a client briefs the human on that consult call, then the two are joined and hear each other.
 */
describe.skipIf(!hasBinary('baresip') || !hasBinary('sipp'))(
  'warm transfer (call.transfer mode attended)',
  () => {
    it('caller (baresip) -> relay with the AI -> human (baresip): the briefing reaches the human only, then they hear each other', async () => {
      const callerDir = mkdtempSync(join(tmpdir(), 'warm-caller-'));
      const humanDir = mkdtempSync(join(tmpdir(), 'warm-human-'));
      writeFileSync(join(callerDir, 'mic.wav'), wavFile(speechLike(8000, 16, 101), 8000));
      writeFileSync(join(humanDir, 'mic.wav'), wavFile(speechLike(8000, 16, 202), 8000));
      // the AI answers the caller (echo: it says each turn back); it steps aside while the caller waits, and
      // none is put on the consult call
      const relay = await startTestRelay({
        RTP_PORT_START: '49200',
        RTP_PORT_END: '49299',
        CALL_CENTER: 'true',
        AI_PROVIDER: 'echo',
        AI_VAD: 'energy',
      });
      const c = await jsonClient(relay.ws.port);
      const humanPort = await freeSipPort();
      const humanUa = baresipConfig(humanDir, humanPort, join(humanDir, 'mic.wav'), 'pcmu', {
        answermode: 'auto',
      });
      const human = run('baresip', ['-f', humanUa, '-t', '15'], { cwd: humanDir, timeoutMs: 25_000 });
      await new Promise((r) => setTimeout(r, 700));
      const callerUa = baresipConfig(callerDir, await freeSipPort(), join(callerDir, 'mic.wav'), 'pcmu');
      const caller = run(
        'baresip',
        ['-f', callerUa, '-e', `/dial sip:relay@127.0.0.1:${relay.sip.port}`, '-t', '11'],
        {
          cwd: callerDir,
          timeoutMs: 25_000,
        },
      );
      try {
        const answered = await c.until((m) => m.type === 'call.answered', 8000);
        const callId = answered!.callId as string;
        const tA = answered!.at;
        await new Promise((r) => setTimeout(r, 1000));
        expect(relay.ai!.agent(callId), 'the AI is on the call').toBeDefined();
        const ack = await c.request({
          type: 'call.transfer',
          id: 'w',
          callId,
          mode: 'attended',
          target: `sip:alice@127.0.0.1:${humanPort}`, // baresip's account (another user: 404)
        });
        expect(ack).toMatchObject({ type: 'ack', consultCallId: expect.any(String) });
        const consult = ack!.consultCallId as string;
        const consulting = await c.until(
          (m) => m.type === 'call.transfer' && m.status === 'consulting',
          8000,
        );
        expect(consulting).toMatchObject({ callId, mode: 'attended', consultCallId: consult });
        const tB = c.got.find((m) => m.type === 'call.answered' && m.callId === consult)!.at;
        // the caller's agent stepped aside; the human gets none (the consult call is the clients')
        expect(relay.ai!.agent(callId)).toBeUndefined();
        expect(relay.ai!.agent(consult)).toBeUndefined();
        // the briefing: 1.2 s of a 1 kHz tone played to the human only
        const tone = new Int16Array(9600).map((_, i) =>
          Math.round(9000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)),
        );
        const played = await c.request({
          type: 'call.play',
          id: 'brief',
          callId: consult,
          format: 'pcmu',
          audio: Buffer.from(encodeG711('PCMU', tone)).toString('base64'),
        });
        expect(played).toMatchObject({ type: 'ack' });
        await new Promise((r) => setTimeout(r, 1600));
        expect(await c.request({ type: 'call.transfer.complete', id: 'done', callId })).toMatchObject({
          type: 'ack',
        });
        const tX = c.got.find((m) => m.type === 'call.transfer' && m.status === 'completed')!.at;
        // the caller hangs up at its end (-t 11): the relay hangs up the human too
        const callerRun = await caller;
        expect(callerRun.code, callerRun.stdout.slice(-1500)).toBe(0);
        await c.until((m) => m.type === 'call.ended' && m.callId === consult, 5000);
        expect(
          c.got
            .filter((m) => m.type === 'call.ended')
            .map((m) => m.callId)
            .sort(),
        ).toEqual([callId, consult].sort());
        await human;

        const callerHeard = baresipRecording(callerDir, 'dec').samples;
        const callerSaid = baresipRecording(callerDir, 'enc').samples;
        const humanHeard = baresipRecording(humanDir, 'dec').samples;
        const humanSaid = baresipRecording(humanDir, 'enc').samples;
        const sB = (tB - tA) / 1000; // the consult call's start on the caller's timeline (s)
        const sX = (tX - tA) / 1000; // joined, on the caller's timeline
        const hX = (tX - tB) / 1000; // joined, on the human's timeline
        // the human heard the briefing; the caller heard nothing of it (silence while waiting)
        const humanBriefing = rms(secs(humanHeard, 0.2, hX - 0.1));
        const callerWaiting = rms(secs(callerHeard, sB + 0.2, sX - 0.1));
        console.log(
          `warm transfer: briefing rms at the human ${humanBriefing.toFixed(0)}, at the caller ${callerWaiting.toFixed(0)}`,
        );
        expect(humanBriefing).toBeGreaterThan(2000);
        expect(callerWaiting).toBeLessThan(200);
        // joined: each hears the other. 4 s of what one heard after the join, found in what the other said (the
        // envelope correlation slides over all of it, so the recordings' start times need not be exact)
        // (only at offsets where the whole 4 s overlap: a short overlap correlates by chance)
        // The best of three 4 s windows (from 0.3, 1.3, 2.3 s after the join): a baresip jitter-buffer reset
        // shifts its own recording now and then (seen in 1 run of 4 on this VM), not what the relay sent.
        const find = (said: Int16Array, heard: Int16Array, from: number) =>
          [0.3, 1.3, 2.3]
            .map((d) => {
              const h = secs(heard, from + d, from + d + 4);
              return envelopeCorrelation(said, h, 8000, Math.max(0, (said.length - h.length) / 8));
            })
            .reduce((a, b) => (b.corr > a.corr ? b : a));
        const toCaller = find(humanSaid, callerHeard, sX);
        const toHuman = find(callerSaid, humanHeard, hX);
        console.log(
          `warm transfer: caller hears the human r=${toCaller.corr.toFixed(3)} (at ${toCaller.lagMs} ms of its speech), human hears the caller r=${toHuman.corr.toFixed(3)} (at ${toHuman.lagMs} ms of its speech)`,
        );
        expect(toCaller.corr).toBeGreaterThan(0.7);
        expect(toHuman.corr).toBeGreaterThan(0.7);
      } finally {
        c.ws.close();
        await relay.close();
      }
    });

    it('the human declines (486): the transfer fails with the code and the caller stays on the call', async () => {
      const busyPort = await freeUdpPort();
      const busy = sipp('uas-busy.xml', undefined, ['-m', '1'], 20_000, busyPort);
      await new Promise((r) => setTimeout(r, 300));
      const relay = await startTestRelay({
        RTP_PORT_START: '49200',
        RTP_PORT_END: '49299',
        CALL_CENTER: 'true',
        AI_PROVIDER: 'echo',
        AI_VAD: 'energy',
      });
      const c = await jsonClient(relay.ws.port);
      const dir = mkdtempSync(join(tmpdir(), 'warm-busy-'));
      writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 5)));
      try {
        const caller = sipp(
          'uac-wait-bye.xml',
          `127.0.0.1:${relay.sip.port}`,
          [
            '-s',
            'relay',
            '-m',
            '1',
            '-mi',
            '127.0.0.1',
            '-mp',
            String(await freeUdpPort()),
            '-key',
            'rtp',
            `${join(dir, 'voice.ulaw')},-1,0`,
          ],
          20_000,
        );
        const answered = await c.until((m) => m.type === 'call.answered', 8000);
        const callId = answered!.callId as string;
        const ack = await c.request({
          type: 'call.transfer',
          id: 'w',
          callId,
          mode: 'attended',
          target: `sip:human@127.0.0.1:${busyPort}`,
        });
        expect(ack).toMatchObject({ type: 'ack' });
        const failed = await c.until((m) => m.type === 'call.transfer' && m.status === 'failed', 8000);
        expect(failed).toMatchObject({ callId, code: 486, mode: 'attended' });
        expect(relay.calls.call(callId)?.state).toBe('established');
        // the caller is back with its agent
        await until(() => relay.ai!.agent(callId) !== undefined, 3000);
        expect(await c.request({ type: 'call.transfer.complete', id: 'x', callId })).toMatchObject({
          type: 'error',
          code: 'invalid_state',
        });
        expect(await c.request({ type: 'call.hangup', id: 'h', callId })).toMatchObject({ type: 'ack' });
        const run1 = await caller;
        expect(run1.code, run1.stdout + run1.stderr).toBe(0);
        expect((await busy).code).toBe(0);
      } finally {
        c.ws.close();
        await relay.close();
      }
    });

    it('a caller that takes REFER and a human that takes Replaces: REFER with Replaces, and the relay leaves both calls', async () => {
      const humanPort = await freeUdpPort();
      const human = sipp('uas-replaces.xml', undefined, ['-m', '1', '-trace_msg'], 20_000, humanPort);
      await new Promise((r) => setTimeout(r, 300));
      const relay = await startTestRelay({ RTP_PORT_START: '49200', RTP_PORT_END: '49299' });
      const c = await jsonClient(relay.ws.port);
      const dir = mkdtempSync(join(tmpdir(), 'warm-refer-'));
      writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 6)));
      try {
        const caller = sipp(
          'uac-refer-replaces.xml',
          `127.0.0.1:${relay.sip.port}`,
          [
            ...[
              '-s',
              'relay',
              '-m',
              '1',
              '-mi',
              '127.0.0.1',
              '-mp',
              String(await freeUdpPort()),
              '-trace_msg',
            ],
            ...['-key', 'rtp', `${join(dir, 'voice.ulaw')},-1,0`, '-key', 'frag', '200 OK'],
          ],
          20_000,
        );
        const answered = await c.until((m) => m.type === 'call.answered', 8000);
        const callId = answered!.callId as string;
        const ack = await c.request({
          type: 'call.transfer',
          id: 'w',
          callId,
          mode: 'attended',
          target: `sip:human@127.0.0.1:${humanPort}`,
        });
        const consult = ack!.consultCallId as string;
        await c.until((m) => m.type === 'call.transfer' && m.status === 'consulting', 8000);
        expect(await c.request({ type: 'call.transfer.complete', id: 'done', callId })).toMatchObject({
          type: 'ack',
        });
        const done = await c.until(
          (m) => m.type === 'call.transfer' && m.mode === 'attended' && m.status === 'completed',
          8000,
        );
        expect(done).toMatchObject({ callId, consultCallId: consult });
        const run1 = await caller;
        expect(run1.code, run1.stdout + run1.stderr).toBe(0);
        // Replaces names the consult dialog as the human sees it: its Call-ID, to-tag = its tag, from-tag = ours
        const referTo = /Refer-To: <([^>]+)>/.exec(run1.messages())![1]!;
        const replaces = decodeURIComponent(referTo.split('?Replaces=')[1]!);
        expect(referTo).toMatch(new RegExp(`^sip:callee@127\\.0\\.0\\.1:${humanPort}\\?Replaces=`));
        expect(replaces).toMatch(
          new RegExp(`^${consult.replace(/[.]/g, '\\.')};to-tag=\\d+SIPpTag01\\d+;from-tag=\\w+$`),
        );
        const h = await human;
        expect(h.code, h.stdout + h.stderr).toBe(0);
        // the caller's call ended as transferred; the consult call by the human's BYE; nothing was bridged
        expect(c.got.find((m) => m.type === 'call.ended' && m.callId === callId)).toMatchObject({
          reason: 'transferred',
        });
        expect(await c.until((m) => m.type === 'call.ended' && m.callId === consult, 5000)).toMatchObject({
          reason: 'remote-bye',
        });
      } finally {
        c.ws.close();
        await relay.close();
      }
    });
  },
);
