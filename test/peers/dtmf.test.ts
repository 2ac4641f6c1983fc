import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { freeUdpPort, hasBinary } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

const havePcaps = existsSync('/usr/share/sip-tester/dtmf_2833_1.pcap');

describe.skipIf(!hasBinary('sipp') || !havePcaps)('RFC 4733 DTMF from a caller', () => {
  it('1, 5, 9 pressed (each with three end packets) -> exactly three call.dtmf events, in order', async () => {
    const relay = await startTestRelay({ RTP_PORT_START: '47200', RTP_PORT_END: '47299' });
    const events: CallEvent[] = [];
    relay.calls.events$.subscribe((e) => events.push(e));
    const r = await sipp('uac-dtmf.xml', `127.0.0.1:${relay.sip.port}`, [
      '-s',
      'relay',
      '-m',
      '1',
      '-mi',
      '127.0.0.1',
      '-mp',
      String(await freeUdpPort()),
    ]);
    await relay.close();
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    expect(
      events.filter((e) => e.type === 'call.dtmf').map((e) => e.type === 'call.dtmf' && e.digit),
    ).toEqual(['1', '5', '9']);
  });
});
