import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/relay.ts';
import { fillCase, groupOf, loadProtosCases } from '../helpers/protos.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { optionsRequest, UdpPeer } from '../helpers/udp-client.ts';
import { VECTORS_DIR, VECTORS_MISSING } from '../helpers/vectors.ts';

/** The largest UDP payload over IPv4 (65,535 - 8 UDP - 20 IP). */
const MAX_UDP = 65_507;

describe.skipIf(!VECTORS_DIR)('live: PROTOS c07-sip over UDP', () => {
  let relay: Relay;
  let peer: UdpPeer;
  beforeAll(async () => {
    relay = await startTestRelay();
    peer = await UdpPeer.open();
  });
  afterAll(async () => {
    await peer.close();
    await relay.close();
  });

  it('every case that fits one datagram, then its teardown; the relay answers OPTIONS within 1 s after each', async () => {
    const cases = loadProtosCases();
    let sent = 0;
    let skipped = 0;
    const dead: string[] = [];
    for (const c of cases) {
      const invite = fillCase(c.invite, { port: peer.port, id: String(c.index) });
      if (invite.length > MAX_UDP) {
        skipped++;
        continue;
      }
      await peer.send(invite, relay.sip.port);
      await peer.send(fillCase(c.teardown, { port: peer.port, id: String(c.index) }), relay.sip.port);
      sent++;
      // PROTOS' own "still alive" check: a valid request answered after each case
      const probe = `z9hG4bK-alive-${c.index}`;
      await peer.send(optionsRequest(peer.port, probe), relay.sip.port);
      const res = await peer.waitFor(probe, 1000);
      if (res?.status !== 200) dead.push(`${c.index} (${groupOf(c.index)})`);
      peer.responses.length = 0;
      peer.raw.length = 0;
    }
    expect(dead).toEqual([]);
    expect(sent + skipped).toBe(4527);
    expect(skipped).toBe(81); // the INDEX: 81 cases are larger than one datagram
  }, 600_000);
});

if (!VECTORS_DIR) {
  describe('live PROTOS (skipped)', () => {
    it.skip(VECTORS_MISSING, () => {});
  });
}
