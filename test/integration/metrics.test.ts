import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/relay.ts';
import { speechLike } from '../helpers/audio.ts';
import { freeUdpPort } from '../helpers/peers.ts';
import { Phone, peakOf } from '../helpers/phone.ts';
import { startTestRelay } from '../helpers/relay.ts';

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** One sample's value from Prometheus' text format, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const scrape = async (r: Relay, path = '/metrics') => fetch(`http://127.0.0.1:${r.metrics!.port}${path}`);

describe('GET /metrics (METRICS_PORT)', () => {
  it('is off unless METRICS_PORT is set', async () => {
    relay = await startTestRelay();
    expect(relay.metrics).toBeUndefined();
  });

  it('counts a real call: active while up, ended by reason, RTP both ways, paced frames, jitter', async () => {
    relay = await startTestRelay({ METRICS_PORT: '0', RTP_PORT_START: '40800', RTP_PORT_END: '40899' });
    const idle = await (await scrape(relay)).text();
    expect(sample(idle, 'sip_relay_calls_active')).toBe(0);
    expect(sample(idle, 'sip_relay_rtp_packets_received_total')).toBe(0);
    expect(sample(idle, 'process_cpu_seconds_total')).toBeGreaterThan(0); // Node's own metrics too

    const phone = await Phone.call(relay.sip.port);
    await new Promise((r) => setTimeout(r, 1000));
    const during = await (await scrape(relay)).text();
    expect(sample(during, 'sip_relay_calls_active')).toBe(1);
    // about 50 packets a second each way: counted while the call is still up
    expect(sample(during, 'sip_relay_rtp_packets_received_total')).toBeGreaterThan(30);
    expect(sample(during, 'sip_relay_rtp_packets_sent_total')).toBeGreaterThan(30);
    expect(sample(during, 'sip_relay_rtp_frames_paced_total')).toBeGreaterThan(30);

    await phone.hangup();
    await new Promise((r) => setTimeout(r, 100));
    const after = await (await scrape(relay)).text();
    expect(sample(after, 'sip_relay_calls_active')).toBe(0);
    expect(sample(after, 'sip_relay_calls_ended_total', '{direction="incoming",reason="remote-bye"}')).toBe(
      1,
    );
    const sent = sample(after, 'sip_relay_rtp_packets_sent_total')!;
    const received = sample(after, 'sip_relay_rtp_packets_received_total')!;
    // the ended call's packets stay counted (moved from the live session to the totals, not twice)
    expect(received).toBeGreaterThanOrEqual(sample(during, 'sip_relay_rtp_packets_received_total')!);
    expect(sent).toBeLessThan(sample(during, 'sip_relay_rtp_packets_sent_total')! * 1.5);
    expect(sample(after, 'sip_relay_rtp_packets_lost_total')).toBe(0);
    expect(sample(after, 'sip_relay_rtp_jitter_seconds_count')).toBe(1);
    expect(sample(after, 'sip_relay_rtp_frames_late_total')).toBeLessThanOrEqual(
      sample(after, 'sip_relay_rtp_frames_paced_total')!,
    );
    expect(after).toMatch(/^# TYPE sip_relay_calls_ended_total counter$/m);
  });

  it('with the call center: a turn answered is one observation of the reply latency', async () => {
    relay = await startTestRelay({
      METRICS_PORT: '0',
      CALL_CENTER: 'true',
      AI_PROVIDER: 'echo',
      RTP_PORT_START: '40900',
      RTP_PORT_END: '40999',
    });
    const before = await (await scrape(relay)).text();
    expect(sample(before, 'sip_relay_ai_reply_seconds_count')).toBe(0);
    const phone = await Phone.call(relay.sip.port);
    await phone.say(speechLike(8000, 1.5, 5));
    const asked = performance.now();
    await phone.until(
      () => phone.heard.filter((p) => p.at > asked && peakOf(p.samples) > 1000).length > 5,
      5000,
    );
    // the turn is counted once its reply is complete
    let after = '';
    for (let i = 0; i < 50; i++) {
      after = await (await scrape(relay)).text();
      if (sample(after, 'sip_relay_ai_reply_seconds_count')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await phone.hangup();
    expect(sample(after, 'sip_relay_ai_reply_seconds_count')).toBe(1);
    // the echo answers as soon as the turn ends: well under a second
    expect(sample(after, 'sip_relay_ai_reply_seconds_bucket', '{le="1"}')).toBe(1);
    expect(sample(after, 'sip_relay_ai_errors_total')).toBe(0);
  });

  it('a metrics port in use stops start-up, and what was opened before is closed again', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const sipPort = await freeUdpPort();
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const wsPort = (probe.address() as AddressInfo).port; // free a moment ago
    await new Promise((r) => probe.close(r));
    try {
      await expect(
        startTestRelay({
          SIP_LOCAL_PORT: String(sipPort),
          WS_PORT: String(wsPort),
          METRICS_PORT: String((taken.address() as AddressInfo).port),
        }),
      ).rejects.toThrow(/EADDRINUSE/);
      // the SIP socket and the WebSocket server that had started are closed: their ports are free
      const udp = createSocket('udp4');
      await new Promise<void>((ok, fail) => udp.once('error', fail).bind(sipPort, '127.0.0.1', () => ok()));
      udp.close();
      const tcp = createServer();
      await new Promise<void>((ok, fail) => tcp.once('error', fail).listen(wsPort, '127.0.0.1', () => ok()));
      await new Promise((r) => tcp.close(r));
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('answers 404 to anything but GET /metrics, and closes with the relay', async () => {
    relay = await startTestRelay({ METRICS_PORT: '0' });
    expect((await scrape(relay, '/')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`, { method: 'POST' })).status).toBe(
      404,
    );
    const port = relay.metrics!.port;
    await relay.close();
    relay = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('GET /health answers while the process lives; GET /ready says whether it takes calls', async () => {
    relay = await startTestRelay({ METRICS_PORT: '0' });
    const health = await scrape(relay, '/health');
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    const ready = await scrape(relay, '/ready');
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { ready: true, checks: { sip: true, accepting: true } },
    ]);
    relay.core.stopAccepting(); // what close() does first: draining
    const draining = await scrape(relay, '/ready');
    expect([
      draining.status,
      ((await draining.json()) as { checks: { accepting: boolean } }).checks.accepting,
    ]).toEqual([503, false]);
    expect((await scrape(relay, '/health')).status).toBe(200);
  });

  it('GET /ready is 503 while a configured registration is not up', async () => {
    const nobody = await freeUdpPort(); // a registrar that never answers
    relay = await startTestRelay({
      METRICS_PORT: '0',
      SIP_REGISTER: 'true',
      SIP_AUTH_USER: 'relay',
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(nobody),
    });
    const r = await scrape(relay, '/ready');
    expect(r.status).toBe(503);
    expect(((await r.json()) as { checks: object }).checks).toMatchObject({
      sip: true,
      accepting: true,
      registration: 'pending',
    });
  });
});
