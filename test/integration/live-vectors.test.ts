import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/relay.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { optionsRequest, UdpPeer } from '../helpers/udp-client.ts';
import { isResponse, readVector, VECTORS_DIR, VECTORS_MISSING, withLoopbackVia } from '../helpers/vectors.ts';
import { RFC4475 } from '../vectors/rfc4475.table.ts';
import { RFC5118 } from '../vectors/rfc5118.table.ts';

/** Silence is judged after this long; a real answer on loopback takes well under a millisecond. */
const SILENCE_MS = 300;

describe.skipIf(!VECTORS_DIR)('live: every RFC 4475 / 5118 message over UDP to the running relay', () => {
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

  const all = [
    ...Object.entries(RFC4475).map(([f, e]) => ['rfc4475', f, e] as const),
    ...Object.entries(RFC5118).map(([f, e]) => ['rfc5118', f, e] as const),
  ];
  // RFC 3261 8.2.2.2: a request with the From tag, Call-ID and CSeq of one still in a transaction, but another
  // branch, is a merged request (482). Two RFC 5118 messages share those values, so the second gets 482 here.
  const live = new Set<string>();
  const mergeKeyOf = (data: Uint8Array) => {
    const p = parseMessage(data);
    return p.ok && p.value.msg.kind === 'request' && p.value.toTag === undefined
      ? `${p.value.fromTag}|${p.value.callId}|${p.value.cseq.seq}|${p.value.cseq.method}`
      : undefined;
  };
  for (const [group, file, want] of all) {
    it(`${group}/${file} -> ${want.live ?? want.answer}`, async () => {
      const branch = `z9hG4bK-live-${group}-${file}`;
      const raw = readVector(group, file);
      // Requests get a first Via naming our socket; responses are sent as they are (and must be dropped).
      // Either way nothing can be sent to the 192.0.2.x hosts inside the vectors: responses go to the top Via.
      const data = isResponse(raw) ? raw : withLoopbackVia(raw, peer.port, branch);
      const key = mergeKeyOf(raw);
      const expected = key && live.has(key) ? 482 : (want.live ?? want.answer);
      if (key) live.add(key);
      const callId =
        /^(?:Call-ID|i)[ \t]*:[ \t]*(\S+)/im.exec(Buffer.from(raw).toString('latin1'))?.[1] ?? branch;
      const related = () => peer.raw.filter((d) => d.includes(callId)).length;
      const before = related();
      await peer.send(data, relay.sip.port);
      if (want.answer === 'none') {
        // other vectors' INVITE transactions still retransmit their answers: count only this Call-ID
        await new Promise((r) => setTimeout(r, SILENCE_MS));
        expect(related() - before).toBe(0);
      } else {
        const res = await peer.waitFor(branch, 2000);
        expect(res?.status).toBe(expected);
      }
    });
  }

  it('afterwards a valid OPTIONS still gets 200', async () => {
    await peer.send(optionsRequest(peer.port, 'z9hG4bK-live-final'), relay.sip.port);
    expect((await peer.waitFor('z9hG4bK-live-final', 1000))?.status).toBe(200);
  });
});

if (!VECTORS_DIR) {
  describe('live vectors (skipped)', () => {
    it.skip(VECTORS_MISSING, () => {});
  });
}
