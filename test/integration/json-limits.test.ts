import { describe, expect, it } from 'vitest';
import { startTestRelay } from '../helpers/relay.ts';
import { wsClient } from '../helpers/ws-client.ts';

// JSON that would block the event loop in JSON.parse or the schemas is refused before either sees it: a
// 2,000,000-deep array blocked 1.6 s, a 1,000,000-item `tools` array 3.6 s (and overflowed zod's stack: 500).
describe('hostile JSON on the REST API and the /v1 WebSocket', () => {
  it('too deep: 400; too many items: 413; a normal request still works on the same connection', async () => {
    const relay = await startTestRelay({ RTP_PORT_START: '45200', RTP_PORT_END: '45249' });
    const url = `http://127.0.0.1:${relay.ws.port}/v1/calls`;
    const post = async (body: string) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, body: (await res.json()) as { code?: string; detail?: string } };
    };
    try {
      const deep = await post(`${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}`);
      expect(deep.status).toBe(400);
      expect(deep.body.detail).toMatch(/nested deeper than 32/);
      const tools = `{"to":"+4930123","action":{"agent":{"tools":[${Array(1_000_000).fill('0').join(',')}]}}}`;
      const many = await post(tools);
      expect(many.status).toBe(413);
      expect(many.body.detail).toMatch(/more than 1000 items/);
      const fine = await post('{"to":"hello"}'); // parsed and validated as ever: not a number
      expect(fine.status).toBe(400);
      expect(fine.body.code).toBe('bad_request');

      const { ws, until } = await wsClient(`ws://127.0.0.1:${relay.ws.port}/v1`, JSON.parse);
      try {
        ws.send(`{"type":"call.hangup","id":1,"callId":${'['.repeat(1_000_000)}`);
        const refused = await until((m: { type: string; code?: string }) => m.type === 'error');
        expect(refused).toMatchObject({
          code: 'bad_request',
          message: expect.stringMatching(/nested deeper/),
        });
        ws.send('{"type":"call.hangup","id":2,"callId":"nosuch"}'); // the connection stays
        expect(await until((m: { id?: number }) => m.id === 2)).toMatchObject({ code: 'unknown_call' });
      } finally {
        ws.close();
      }
    } finally {
      await relay.close();
    }
  });
});
