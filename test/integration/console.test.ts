import { afterEach, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/relay.ts';
import { listLogger } from '../helpers/list-logger.ts';
import { Phone } from '../helpers/phone.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { UdpPeer } from '../helpers/udp-client.ts';

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

describe('what the console says', () => {
  it('one info line each when a call comes in, is answered and ends (reason, seconds, packets, loss)', async () => {
    const { log, lines } = listLogger();
    relay = await startTestRelay({}, { log });
    const phone = await Phone.call(relay.sip.port);
    await new Promise((r) => setTimeout(r, 1200));
    await phone.hangup();
    const mine = lines.filter((l) => l.obj.callId === phone.callId && l.level === 'info').map((l) => l.msg);
    expect(mine[0]).toBe('call in: phone@127.0.0.1 -> relay@127.0.0.1');
    expect(mine[1]).toBe('call answered (PCMU)');
    expect(mine[2]).toMatch(/^call ended: remote-bye, 1\.\d s, RTP \d+ out \/ \d+ in, 0 lost$/);
    expect(mine).toHaveLength(3);
  });

  it('a flood of malformed packets is one warning a minute; each one is at debug level', async () => {
    const { log, lines } = listLogger();
    relay = await startTestRelay({}, { log });
    const peer = await UdpPeer.open();
    for (let i = 0; i < 50; i++) await peer.send(Buffer.from(`GARBAGE ${i}\r\n\r\n`), relay.sip.port);
    await new Promise((r) => setTimeout(r, 200));
    await peer.close();
    const warns = lines.filter((l) => l.level === 'warn' && !l.msg.startsWith('no greeting'));
    expect(warns).toHaveLength(1);
    expect(warns[0]!.msg).toMatch(/^malformed or stray SIP: malformed request without a usable Via/);
    expect(lines.filter((l) => l.level === 'debug' && l.msg.startsWith('dropped or rejected:'))).toHaveLength(
      50,
    );
    expect(lines.filter((l) => l.level === 'info' && l.msg.includes('malformed'))).toHaveLength(0);
  });
});
