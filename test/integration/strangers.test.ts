import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listLogger } from '../helpers/list-logger.ts';
import { requestText } from '../helpers/messages.ts';
import { until } from '../helpers/peers.ts';
import { Phone } from '../helpers/phone.ts';
import { startTestRelay } from '../helpers/relay.ts';

describe('INVITEs from strangers (outside SIP_ALLOWED_SOURCES)', () => {
  it('are refused and counted, but never push a real call out of the spool nor write a CDR line each', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strangers-'));
    const spool = join(dir, 'spool');
    const cdr = join(dir, 'calls.jsonl');
    const { log, lines } = listLogger();
    const relay = await startTestRelay(
      {
        SIP_ALLOWED_SOURCES: '127.0.0.1',
        EVENTS_WEBHOOK_URL: 'http://127.0.0.1:9/events', // nobody listens: everything stays spooled
        EVENTS_SPOOL_DIR: spool,
        EVENTS_SPOOL_MAX: '10',
        CDR_FILE: cdr,
        METRICS_PORT: '0',
        RTP_PORT_START: '44950',
        RTP_PORT_END: '44999',
      },
      { log },
    );
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.3', () => r()));
    try {
      const phone = await Phone.call(relay.sip.port);
      await new Promise((r) => setTimeout(r, 100));
      await phone.hangup();
      await until(() => relay.status!.spool.size === 3, 3000); // incoming, answered, ended
      const real = readdirSync(spool).sort();
      let answered = 0;
      stranger.on('message', (d) => {
        if (/^SIP\/2\.0 403/.test(d.toString('latin1'))) answered++;
      });
      const port = stranger.address().port;
      for (let i = 0; i < 60; i++)
        stranger.send(
          requestText({
            ruri: `sip:relay@127.0.0.1:${relay.sip.port}`,
            sentBy: `127.0.0.3:${port}`,
            branch: `z9hG4bK-stranger-${i}`,
            callId: `stranger-${i}`,
          }),
          relay.sip.port,
          '127.0.0.1',
        );
      await until(() => answered === 60, 5000);
      expect(readdirSync(spool).sort()).toEqual(real); // the real call's events are all still there
      expect(relay.status!.spool.size).toBe(3);
      await until(() => readFileSync(cdr, 'utf8').length > 0, 2000);
      expect(readFileSync(cdr, 'utf8').trim().split('\n')).toHaveLength(1); // the real call only
      const text = await (await fetch(`http://127.0.0.1:${relay.metrics!.port}/metrics`)).text();
      expect(text).toMatch(/sip_relay_invites_refused_unknown_source_total 60\b/);
      expect(lines.filter((l) => /SIP_ALLOWED_SOURCES/.test(l.msg))).toHaveLength(1); // once a minute
    } finally {
      stranger.close();
      await relay.close();
    }
  });
});
