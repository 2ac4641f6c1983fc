import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeG711 } from '../../src/media/g711.ts';
import { speechLike } from '../helpers/audio.ts';
import { freeUdpPort, hasBinary, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { relayCaller, sipp } from '../helpers/sipp.ts';

/**
 * Every call out passes one outbound policy, whatever starts it: here a REFER the relay receives (sipp as
 * the transferor) and a warm transfer asked over REST, against a routes file with a deny list and a trunk
 * limited to one call (the trunk is sipp on 127.0.0.1, as the transfer target).
 */
describe.skipIf(!hasBinary('sipp'))('one outbound policy for transfers (sipp)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'outbound-policy-'));
  const voice = join(dir, 'voice.ulaw');
  writeFileSync(voice, encodeG711('PCMU', speechLike(8000, 2, 5)));

  async function start(trunkPort: number) {
    const routes = join(dir, `routes-${trunkPort}.yaml`);
    writeFileSync(
      routes,
      `trunks:
  - name: carrier
    host: 127.0.0.1
    port: ${trunkPort}
    maxCalls: 1
    prefixes: ["+49"]
routes:
  - to: "*"
    clients: { answer: true }
denyPrefixes: ["+1900"]
`,
    );
    return startTestRelay({ ROUTES_FILE: routes, RTP_PORT_START: '45100', RTP_PORT_END: '45199' });
  }

  it('a REFER to a denied number at the trunk gets 403 and nobody is called', async () => {
    const relay = await start(await freeUdpPort());
    const events: Array<{ type: string }> = [];
    relay.calls.events$.subscribe((e) => events.push(e));
    try {
      const run = await relayCaller('uac-refer-in-forbidden.xml', relay.sip.port, voice, {
        timeoutMs: 20_000,
        keys: ['-key', 'target', 'sip:+1900555123@127.0.0.1'],
      });
      expect(run.code, run.stdout + run.stderr).toBe(0); // sipp got its 403
      expect(events.filter((e) => e.type === 'call.referred')).toEqual([]);
      expect(relay.calls.list().filter((c) => c.direction === 'outgoing')).toEqual([]);
    } finally {
      await relay.close();
    }
  });

  it('a referred call through the trunk counts against its maxCalls while it lives, and a Replaces is not passed on', async () => {
    const targetPort = await freeUdpPort();
    const target = sipp('uas-referred.xml', undefined, ['-m', '1', '-trace_msg'], 30_000, targetPort);
    await new Promise((r) => setTimeout(r, 300));
    const relay = await start(targetPort);
    const events: Array<Record<string, unknown> & { type: string }> = [];
    relay.calls.events$.subscribe((e) => events.push({ ...e }));
    try {
      const run = await relayCaller('uac-refer-in.xml', relay.sip.port, voice, {
        keys: [
          '-key',
          'target',
          `sip:1002@127.0.0.1:${targetPort}?Replaces=attacker-call%40elsewhere%3Bto-tag%3Da%3Bfrom-tag%3Db`,
        ],
      });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const referred = events.filter((e) => e.type === 'call.referred');
      expect(referred.map((e) => e.status)).toEqual(['accepted', 'completed']);
      const newCallId = referred[1]!.newCallId as string;
      expect(relay.calls.call(newCallId)?.state).toBe('established');
      expect(relay.calls.plan(newCallId)?.trunk).toBe('carrier');
      // the trunk's one call is taken: a call out by prefix is refused while the referred call lives
      const second = await relay.calls.dial('+4930123456');
      expect(second).toMatchObject({ ok: false, status: 503 });
      expect(relay.calls.hangup(newCallId)).toBe(true);
      const t = await target;
      expect(t.code, t.stdout + t.stderr).toBe(0);
      const invite =
        t
          .messages()
          .split(/\r?\n\r?\n/)
          .find((m) => /INVITE sip:1002@/.test(m)) ?? '';
      expect(invite).toMatch(/Referred-By:/);
      expect(invite).not.toMatch(/^Replaces:/im);
    } finally {
      await relay.close();
    }
  });

  it('a warm transfer asked over REST to a denied number is refused, and no consult call is made', async () => {
    const relay = await start(await freeUdpPort());
    const events: Array<Record<string, unknown> & { type: string }> = [];
    relay.calls.events$.subscribe((e) => events.push({ ...e }));
    const caller = relayCaller('uac-wait-bye.xml', relay.sip.port, voice, { loops: 1 });
    try {
      await until(() => events.some((e) => e.type === 'call.answered'), 10_000);
      const callId = String(events.find((e) => e.type === 'call.incoming')!.callId);
      await until(() => relay.calls.call(callId)?.state === 'established', 5000);
      for (const mode of ['attended', 'blind']) {
        const res = await fetch(
          `http://127.0.0.1:${relay.ws.port}/v1/calls/${encodeURIComponent(callId)}/transfer`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ target: 'sip:+1900555123@127.0.0.1', mode }),
          },
        );
        const body = (await res.json()) as { detail?: string };
        expect(res.status, `${mode}: ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
        expect(body.detail).toMatch(/\+1900 may not be dialled/);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(relay.calls.list().filter((c) => c.direction === 'outgoing')).toEqual([]);
      relay.calls.hangup(callId);
      await caller;
    } finally {
      await relay.close();
    }
  });
});
