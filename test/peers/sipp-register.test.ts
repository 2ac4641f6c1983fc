import { describe, expect, it } from 'vitest';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

describe.skipIf(!hasBinary('sipp'))('registration at a sipp registrar (SIP_REGISTER=true)', () => {
  it('503 -> backoff and retry; 401 -> digest (verified by sipp); refresh before expiry; unREGISTER on close', async () => {
    const port = await freeUdpPort();
    const registrar = sipp('registrar.xml', undefined, ['-m', '1', '-trace_msg'], 40_000, port);
    await new Promise((r) => setTimeout(r, 300));
    const relay = await startTestRelay({
      SIP_REGISTER: 'true',
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(port),
      SIP_FROM_USER: '1001',
      SIP_FROM_DOMAIN: 'pbx.test',
      SIP_AUTH_USER: 'alice',
      SIP_AUTH_PASSWORD: 's3cret',
      SIP_REGISTER_EXPIRES: '60',
    });
    const states: string[] = [];
    relay.registration!.actor.subscribe((s) => {
      const v = String(s.value);
      if (states.at(-1) !== v) states.push(v);
    });
    const deadline = performance.now() + 10_000;
    // registered once (after the 2 s backoff), then refreshed after ~1 s: wait for the 60 s grant
    while (relay.registration!.actor.getSnapshot().context.expires !== 60 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(relay.registration!.status).toBe('registered');
    await relay.close();
    const r = await registrar;
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    expect(states).toEqual([
      'retrying',
      'registering',
      'registered',
      'registering',
      'registered',
      'unregistering',
      'unregistered',
    ]);
    const registers = r
      .messages()
      .split(/\n(?=-{10})/)
      .filter((m) => /^REGISTER /m.test(m) && /received/.test(m));
    expect(registers.map((m) => /CSeq: (\d+) REGISTER/.exec(m)?.[1])).toEqual(['1', '2', '3', '4', '5']);
    expect(new Set(registers.map((m) => /Call-ID: (\S+)/.exec(m)?.[1])).size).toBe(1); // RFC 3261 10.2
    expect(registers[0]).toMatch(/To: <sip:1001@pbx\.test>/);
    expect(registers[4]).toMatch(/Expires: 0/);
  }, 45_000);
});
