import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeG711 } from '../../src/media/g711.ts';
import { speechLike } from '../helpers/audio.ts';
import { hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { talkingCallers } from '../helpers/sipp.ts';
import { optionsRequest, UdpPeer } from '../helpers/udp-client.ts';

describe.skipIf(!hasBinary('sipp'))('a WebSocket client that never reads', () => {
  it('does not stall SIP (OPTIONS: nine in ten within 250 ms), its backlog stays bounded, and the other client gets everything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-stuck-'));
    writeFileSync(join(dir, 'voice.ulaw'), encodeG711('PCMU', speechLike(8000, 2, 5)));
    const relay = await startTestRelay({ RTP_PORT_START: '48000', RTP_PORT_END: '48199' });
    const stuck = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/`);
    await new Promise((r) => stuck.on('open', r));
    (stuck as unknown as { _socket: { pause(): void } })._socket.pause(); // never reads again
    const reader = new WebSocket(`ws://127.0.0.1:${relay.ws.port}/`);
    let readerRtp = 0;
    const readerControl: string[] = [];
    reader.on('message', (d) => {
      const m = String(d);
      if (m.startsWith('RTP:')) readerRtp++;
      else readerControl.push(m);
    });
    await new Promise((r) => reader.on('open', r));

    // 20 callers streaming audio for 8 s: ~8,000 RTP events of 330 bytes to each client
    const calls = talkingCallers(`127.0.0.1:${relay.sip.port}`, join(dir, 'voice.ulaw'), {
      calls: 20,
      timeoutMs: 40_000,
    });
    const probe = await UdpPeer.open();
    const probes: number[] = [];
    let maxBacklog = 0;
    // on top of the real calls, a flood through the same fan-out: 60,000 more audio events (20 MB),
    // more than the kernel's socket buffers hold, so the server-side backlog has to be handled
    const payload = new Uint8Array(160).fill(0x55);
    let flooded = 0;
    const flood = setInterval(() => {
      for (let k = 0; k < 300 && flooded < 60_000; k++, flooded++)
        relay.media.packets$.next({ callId: 'flood', payloadType: 0, payload });
    }, 10);
    for (let i = 0; i < 40; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const branch = `z9hG4bK-stuck-${i}`;
      const t0 = performance.now();
      await probe.send(optionsRequest(probe.port, branch), relay.sip.port);
      const res = await probe.waitFor(branch, 1000);
      expect(res?.status).toBe(200);
      probes.push(performance.now() - t0);
      maxBacklog = Math.max(maxBacklog, ...relay.ws.backlog().map((b) => b.bytes));
    }
    clearInterval(flood);
    const stuckStats = relay.ws.backlog().find((b) => b.id === 1);
    reader.send('HANGUP'); // several calls: an error, not a guess
    for (const c of relay.calls.list()) relay.calls.hangup(c.callId);
    expect((await calls).code).toBe(0);
    await new Promise((r) => setTimeout(r, 200));
    probes.sort((a, b) => a - b);
    const p90 = probes[Math.floor(probes.length * 0.9)]!;
    const worst = probes.at(-1)!;
    console.log(
      `OPTIONS p90 ${p90.toFixed(1)} ms, worst ${worst.toFixed(1)} ms; stuck client backlog max ${maxBacklog} B, dropped ${stuckStats?.dropped}; reader got ${readerRtp} RTP events`,
    );
    // a stalled event loop delays every probe by seconds; a busy shared machine delays some by tens of ms
    // (p90 50.4 ms seen while a benchmark ran beside the suite): the bounds tell the two apart, and the
    // latency itself is the benchmarks' business (npm run bench -- ws)
    expect(p90).toBeLessThan(250);
    expect(worst).toBeLessThan(2000);
    expect(maxBacklog).toBeLessThan(1024 * 1024); // audio dropped beyond 512 KiB, not queued forever
    expect(stuckStats?.dropped).toBeGreaterThan(0);
    expect(readerRtp).toBeGreaterThan(5000 + 50_000); // the reading client keeps up with the flood
    expect(readerControl.filter((m) => m.startsWith('RING_ANS:'))).toHaveLength(20);
    expect(readerControl.filter((m) => m.startsWith('BYE:'))).toHaveLength(20);
    expect(readerControl).toContain('ERROR:several active calls: name one');
    stuck.terminate();
    reader.close();
    await probe.close();
    await relay.close();
  }, 60_000);
});
