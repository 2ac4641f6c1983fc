import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { startTestRelay } from '../helpers/relay.ts';

describe('REST DELETE of a call out that has had no provisional response', () => {
  it('answers 202 saying the CANCEL waits for one (RFC 3261 9.1), not a 204 that looks final', async () => {
    const silent = createSocket('udp4'); // the upstream: takes the INVITE, never answers
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const relay = await startTestRelay({
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(silent.address().port),
      RTP_PORT_START: '45350',
      RTP_PORT_END: '45399',
    });
    const api = `http://127.0.0.1:${relay.ws.port}/v1/calls`;
    try {
      const placed = await fetch(api, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"to":"1001"}',
      });
      expect(placed.status).toBe(201);
      const { callId } = (await placed.json()) as { callId: string };
      const del = await fetch(`${api}/${encodeURIComponent(callId)}`, { method: 'DELETE' });
      expect(del.status).toBe(202);
      expect(await del.json()).toMatchObject({
        status: 'accepted',
        detail: expect.stringMatching(/RFC 3261 9\.1/),
      });
      const got = await fetch(`${api}/${encodeURIComponent(callId)}`);
      expect(((await got.json()) as { state: string }).state).toBe('inviting.cancelPending');
    } finally {
      silent.close();
      await relay.close();
    }
  });
});
