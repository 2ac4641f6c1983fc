import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freeSipPort, freeUdpPort, hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

/**
 * The routes file's trunks against two sipp trunks (trunk.xml: registrar and call server, each checking its
 * own digest credentials): both registered at once and shown in /ready and the metrics; a call out by
 * number prefix leaves through the right trunk with that trunk's credentials; the deny list and the
 * trunk's maxCalls refuse calls before any INVITE.
 */
describe.skipIf(!hasBinary('sipp'))(
  'trunks: two registrations, calls out by prefix, limits (sipp trunks)',
  () => {
    it('registers at both, dials +44 through uk as bob, refuses a premium number and a second call over maxCalls', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'trunks-'));
      // de is reached over TCP (sipp -t t1 listens on TCP), uk over UDP
      const [de, uk, metricsPort] = [await freeSipPort(), await freeUdpPort(), await freeUdpPort()];
      const trunkArgs = (user: string, pass: string, calls: number, tcp = false) => [
        ...['-m', String(calls), '-mi', '127.0.0.1', '-trace_msg', ...(tcp ? ['-t', 't1'] : [])],
        ...['-key', 'user', user, '-key', 'pass', pass],
      ];
      const deSipp = sipp('trunk.xml', undefined, trunkArgs('alice', 's3cret', 1, true), 40_000, de);
      const ukSipp = sipp('trunk.xml', undefined, trunkArgs('bob', 'b0b', 2), 40_000, uk);
      const routes = join(dir, 'routes.yaml');
      writeFileSync(
        routes,
        `
trunks:
  - { name: de, host: 127.0.0.1, port: ${de}, transport: tcp, username: alice, password: s3cret, register: true, prefixes: ["+49"] }
  - { name: uk, host: 127.0.0.1, port: ${uk}, username: bob, password: b0b, register: true, prefixes: ["+44"], maxCalls: 1 }
routes:
  - clients: true
denyPrefixes: ["+44900"]
`,
      );
      const relay = await startTestRelay({
        ROUTES_FILE: routes,
        METRICS_PORT: String(metricsPort),
        RTP_PORT_START: '49600',
        RTP_PORT_END: '49699',
      });
      const base = `http://127.0.0.1:${relay.ws.port}`;
      const dial = (to: string) =>
        fetch(`${base}/v1/calls`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ to }),
        });
      let closed = false;
      try {
        await until(() => Object.values(relay.trunks.statuses).join() === 'registered,registered', 10_000);
        const ready = await fetch(`http://127.0.0.1:${relay.metrics!.port}/ready`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({
          ready: true,
          checks: { 'trunk.de': 'registered', 'trunk.uk': 'registered' },
        });
        const metrics = await (await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`)).text();
        expect(metrics).toMatch(/trunk_registration_up\{trunk="de"\} 1/);
        expect(metrics).toMatch(/trunk_registration_up\{trunk="uk"\} 1/);

        // premium numbers never leave, whatever the trunk
        const premium = await dial('+449001234567');
        expect(premium.status).toBe(403);
        expect(await premium.json()).toMatchObject({
          code: 'dial_failed',
          detail: 'numbers starting +44900 may not be dialled',
        });

        const call = await dial('+442071234567');
        expect(call.status).toBe(201);
        const out = (await call.json()) as { callId: string; trunk: string; to: string };
        expect(out).toMatchObject({ trunk: 'uk', to: `sip:+442071234567@127.0.0.1:${uk}` });
        await until(() => relay.calls.call(out.callId)?.state === 'established', 5000);
        // uk allows one call at a time
        const second = await dial('+442079999999');
        expect(second.status).toBe(503);
        expect(((await second.json()) as { detail: string }).detail).toBe('trunk uk has 1 calls out already');
        expect(
          (await fetch(`${base}/v1/calls/${encodeURIComponent(out.callId)}`, { method: 'DELETE' })).status,
        ).toBe(204);
        await until(() => relay.calls.size === 0, 5000);
        await relay.close(); // unREGISTERs at both
        closed = true;

        const [deRun, ukRun] = await Promise.all([deSipp, ukSipp]);
        expect(deRun.code, deRun.stdout.slice(-1500)).toBe(0);
        expect(ukRun.code, ukRun.stdout.slice(-1500)).toBe(0);
        // the INVITE went to uk only, From bob, and its retry carried bob's credentials (verified by sipp)
        const invites = ukRun.messages().match(/INVITE sip:[^ ]+ SIP\/2\.0[\s\S]*?\r?\n\r?\n/g) ?? [];
        expect(invites).toHaveLength(2);
        expect(invites[1]).toMatch(/^INVITE sip:\+442071234567@127\.0\.0\.1:\d+ SIP\/2\.0/);
        expect(invites[1]).toMatch(/From: <sip:bob@127\.0\.0\.1>/);
        expect(invites[1]).toMatch(/Authorization: Digest username="bob"/);
        expect(deRun.messages()).not.toMatch(/INVITE sip:/);
        expect(deRun.messages()).toMatch(/Authorization: Digest username="alice"/);
        // and de's registration came over TCP: Via and Contact say so (RFC 3261 18.1.1, 20.10)
        expect(deRun.messages()).toMatch(/REGISTER sip:[^\r\n]+\r?\nVia: SIP\/2\.0\/TCP /);
        expect(deRun.messages()).toMatch(/Contact: <sip:[^>]*;transport=tcp>/);
      } finally {
        if (!closed) await relay.close();
      }
    }, 60_000);
  },
);
