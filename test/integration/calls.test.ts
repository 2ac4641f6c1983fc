import { afterEach, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import type { Relay } from '../../src/relay.ts';
import { requestText } from '../helpers/messages.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { UdpPeer } from '../helpers/udp-client.ts';

const OFFER = (pts = '0 8 101', extra: string[] = []) =>
  [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio 7000 RTP/AVP ${pts}`,
    ...extra,
    '',
  ].join('\r\n');

/** A scripted SIP phone on a loopback socket, enough to drive the relay's UAS through its branches. */
class Phone {
  #n = 0;
  constructor(
    readonly peer: UdpPeer,
    readonly relayPort: number,
    readonly callId = `phone-${Math.random().toString(36).slice(2)}`,
  ) {}
  branch = () => `z9hG4bK-phone-${this.callId}-${++this.#n}`;
  async send(o: NonNullable<Parameters<typeof requestText>[0]>, wait = true) {
    const branch = o.branch ?? this.branch();
    const text = requestText({
      callId: this.callId,
      sentBy: `127.0.0.1:${this.peer.port}`,
      contact: `<sip:alice@127.0.0.1:${this.peer.port}>`,
      ...o,
      branch,
    }).replace('sip:relay@127.0.0.1:5062', `sip:relay@127.0.0.1:${this.relayPort}`);
    await this.peer.send(Buffer.from(text), this.relayPort);
    return wait ? this.peer.waitFor(branch, 3000) : undefined;
  }
  invite(body = OFFER(), extra: string[] = []) {
    return this.send({
      method: 'INVITE',
      body,
      extra: body ? ['Content-Type: application/sdp', ...extra] : extra,
    });
  }
}

let relay: Relay | undefined;
let peer: UdpPeer | undefined;
const events: CallEvent[] = [];
async function setup(env: Record<string, string> = {}) {
  relay = await startTestRelay({ RTP_PORT_START: '40600', RTP_PORT_END: '40699', ...env });
  peer = await UdpPeer.open();
  events.length = 0;
  relay.calls.events$.subscribe((e) => events.push(e));
  return { relay, phone: (id?: string) => new Phone(peer!, relay!.sip.port, id) };
}
afterEach(async () => {
  await peer?.close();
  await relay?.close();
  relay = undefined;
  peer = undefined;
});

const toTagOf = (text: string) => /^To:.*;tag=([^;\s]+)/m.exec(text)?.[1];

/** ACKs the call's 200, hangs up from the relay's side, and returns the BYE the phone got. */
async function byeAfterHangup(relay: Relay, p: Phone, ok: string): Promise<string | undefined> {
  await p.send({ method: 'ACK', toTag: toTagOf(ok)!, cseq: 1 }, false);
  await new Promise((r) => setTimeout(r, 50));
  const before = peer!.raw.length;
  expect(relay.calls.hangup(p.callId)).toBe(true);
  await new Promise((r) => setTimeout(r, 50));
  return peer!.raw
    .slice(before)
    .map((b) => b.toString())
    .find((t) => t.startsWith('BYE '));
}

describe('incoming calls: the branches a PBX will hit', () => {
  it('no common codec -> 488 and nothing allocated', async () => {
    const { relay, phone } = await setup();
    const r = await phone().invite(OFFER('18 9', ['a=rtpmap:18 G729/8000']));
    expect(r?.status).toBe(488);
    expect([relay.calls.size, relay.ports.inUse]).toEqual([0, 0]);
  });

  it('MAX_CALLS reached -> 503 with Retry-After', async () => {
    const { phone } = await setup({ MAX_CALLS: '1', AUTO_ANSWER: 'false' });
    await phone().send({ method: 'INVITE', body: OFFER(), extra: ['Content-Type: application/sdp'] }, false);
    await new Promise((r) => setTimeout(r, 100)); // the first call rings: no final response
    const second = await phone().invite();
    expect(second?.status).toBe(503);
    expect(second?.text).toMatch(/Retry-After: 5/);
  });

  it('RTP ports exhausted -> 503', async () => {
    const { phone } = await setup({ RTP_PORT_START: '40700', RTP_PORT_END: '40701', AUTO_ANSWER: 'false' });
    await phone().send({ method: 'INVITE', body: OFFER(), extra: ['Content-Type: application/sdp'] }, false);
    await new Promise((r) => setTimeout(r, 100));
    expect((await phone().invite())?.status).toBe(503);
  });

  it('SIP_ALLOWED_SOURCES excludes us -> 403; including us -> the call goes on', async () => {
    const { phone } = await setup({ SIP_ALLOWED_SOURCES: '10.0.0.0/8, 192.168.1.7' });
    expect((await phone().invite())?.status).toBe(403);
    await relay!.close();
    const again = await setup({ SIP_ALLOWED_SOURCES: '127.0.0.0/8' });
    expect((await again.phone().invite())?.status).toBe(200);
  });

  it('a second INVITE reusing a live Call-ID (another From tag) gets 400 and leaks nothing, round after round', async () => {
    // two RTP pairs: before the fix the overwritten first call kept its pair, and the third round found none
    const { relay, phone } = await setup({ RTP_PORT_START: '40700', RTP_PORT_END: '40703' });
    for (let round = 0; round < 4; round++) {
      const p = phone(`collide-${round}`);
      const first = await p.send({
        method: 'INVITE',
        fromTag: 'a',
        body: OFFER(),
        extra: ['Content-Type: application/sdp'],
      });
      expect(first?.status).toBe(200);
      await p.send({ method: 'ACK', fromTag: 'a', toTag: toTagOf(first!.text)!, cseq: 1 }, false);
      const second = await p.send({
        method: 'INVITE',
        fromTag: 'b',
        body: OFFER(),
        extra: ['Content-Type: application/sdp'],
      });
      expect(second?.status).toBe(400);
      expect(second?.text).toMatch(/^SIP\/2\.0 400 Bad Request \(Call-ID already in use\)/);
      expect(
        (await p.send({ method: 'BYE', fromTag: 'a', toTag: toTagOf(first!.text)!, cseq: 2 }))?.status,
      ).toBe(200);
      const deadline = performance.now() + 2000;
      while ((relay.ports.inUse > 0 || relay.media.size > 0) && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect({ ports: relay.ports.inUse, media: relay.media.size, calls: relay.calls.size }).toEqual({
        ports: 0,
        media: 0,
        calls: 0,
      });
    }
  });

  it('MAX_RINGING_PER_SOURCE: INVITEs one source never completes cannot hold every call slot', async () => {
    const { relay, phone } = await setup({ AUTO_ANSWER: 'false', MAX_RINGING_PER_SOURCE: '2' });
    const invite = { method: 'INVITE', body: OFFER(), extra: ['Content-Type: application/sdp'] };
    const ringing = [phone(), phone()];
    for (const p of ringing) await p.send(invite, false);
    await new Promise((r) => setTimeout(r, 100));
    const third = await phone().invite();
    expect(third?.status).toBe(503);
    expect(third?.text).toContain('too many calls being set up from this source');
    // once one of them is answered and ACKed, the source may ring again
    const first = ringing[0]!;
    const trying = peer!.responses.find((r) => r.status === 180 && r.text.includes(first.callId))!;
    expect(relay.calls.answer(first.callId)).toBe(true);
    const ok = await peer!.waitFor(trying.branch!, 2000, (r) => r.status === 200);
    await first.send({ method: 'ACK', toTag: toTagOf(ok!.text)!, cseq: 1 }, false);
    await new Promise((r) => setTimeout(r, 50));
    await phone().send(invite, false);
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.calls.size).toBe(3);
  });

  it('a retransmitted INVITE never creates a second call', async () => {
    const { relay, phone } = await setup({ AUTO_ANSWER: 'false' });
    const p = phone();
    const branch = p.branch();
    await p.send(
      { method: 'INVITE', branch, body: OFFER(), extra: ['Content-Type: application/sdp'] },
      false,
    );
    await p.send(
      { method: 'INVITE', branch, body: OFFER(), extra: ['Content-Type: application/sdp'] },
      false,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(relay.calls.size).toBe(1);
    expect(events.filter((e) => e.type === 'call.incoming')).toHaveLength(1);
  });

  it('manual answer: rings until a client answers; reject gives 486; unknown dialog BYE gives 481', async () => {
    const { relay, phone } = await setup({ AUTO_ANSWER: 'false' });
    const a = phone();
    const pending = a.invite();
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.calls.answer(a.callId)).toBe(true);
    expect((await pending)?.status).toBe(200);
    const b = phone();
    const pendingB = b.invite();
    await new Promise((r) => setTimeout(r, 100));
    expect(relay.calls.reject(b.callId)).toBe(true);
    expect((await pendingB)?.status).toBe(486);
    expect((await phone().send({ method: 'BYE', toTag: 'nope' }))?.status).toBe(481);
  });

  it('in a call: OPTIONS -> 200, INFO DTMF -> 200 and a dtmf event, re-INVITE hold -> 200 recvonly, overlapping re-INVITE -> 491, BYE -> 200', async () => {
    const { relay, phone } = await setup();
    const p = phone();
    const ok = await p.invite();
    expect(ok?.status).toBe(200);
    const tag = toTagOf(ok!.text)!;
    await p.send({ method: 'ACK', toTag: tag, cseq: 1 }, false);
    await new Promise((r) => setTimeout(r, 50));
    expect(relay.calls.call(p.callId)?.state).toBe('established');
    expect((await p.send({ method: 'OPTIONS', toTag: tag, cseq: 2 }))?.status).toBe(200);
    const info = await p.send({
      method: 'INFO',
      toTag: tag,
      cseq: 3,
      extra: ['Content-Type: application/dtmf-relay'],
      body: 'Signal=5\r\nDuration=160\r\n',
    });
    expect(info?.status).toBe(200);
    expect(events.find((e) => e.type === 'call.dtmf')).toMatchObject({ digit: '5' });
    const hold = await p.send({
      method: 'INVITE',
      toTag: tag,
      cseq: 4,
      extra: ['Content-Type: application/sdp'],
      body: OFFER('0', ['a=sendonly']),
    });
    expect(hold?.status).toBe(200);
    expect(hold?.text).toMatch(/a=recvonly/);
    expect(hold?.text).toMatch(/o=sip-relay \d+ 2 IN IP4/); // a fresh answer: the session version moved on
    // a second re-INVITE before the first one's ACK: 491
    const glare = await p.send({
      method: 'INVITE',
      toTag: tag,
      cseq: 5,
      extra: ['Content-Type: application/sdp'],
      body: OFFER(),
    });
    expect(glare?.status).toBe(491);
    await p.send({ method: 'ACK', toTag: tag, cseq: 4 }, false);
    expect((await p.send({ method: 'BYE', toTag: tag, cseq: 6 }))?.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'remote-bye' });
    expect(
      events.filter((e) => e.type === 'call.media').map((e) => e.type === 'call.media' && e.direction),
    ).toEqual(['sendrecv', 'recvonly']);
  });

  it('an INVITE without SDP gets our offer in the 200 and the answer comes in the ACK', async () => {
    const { relay, phone } = await setup();
    const p = phone();
    const ok = await p.send({ method: 'INVITE' });
    expect(ok?.status).toBe(200);
    expect(ok?.text).toMatch(/m=audio \d+ RTP\/AVP 0 8 101/);
    const tag = toTagOf(ok!.text)!;
    await p.send(
      { method: 'ACK', toTag: tag, cseq: 1, extra: ['Content-Type: application/sdp'], body: OFFER('8') },
      false,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(relay.calls.call(p.callId)?.state).toBe('established');
    expect(relay.calls.call(p.callId)?.media).toMatchObject({ codec: 'PCMA', remote: { port: 7000 } });
  });

  it('behind proxies: 180 and 200 carry the Record-Route values in order, and our BYE follows that route', async () => {
    const { relay, phone } = await setup();
    const p = phone();
    // the first proxy is this test's own socket; the second is only ever a header value
    const rr = [`<sip:127.0.0.1:${peer!.port};lr;ftag=abc>`, '<sip:edge.example.invalid;lr;r2=on>'];
    const ok = await p.invite(
      OFFER(),
      rr.map((r) => `Record-Route: ${r}`),
    );
    expect(ok?.status).toBe(200);
    const ringing = peer!.raw.map((b) => b.toString()).find((t) => t.startsWith('SIP/2.0 180'));
    for (const response of [ringing!, ok!.text])
      expect(response.match(/^Record-Route: .*$/gm)).toEqual(rr.map((r) => `Record-Route: ${r}`));
    const bye = await byeAfterHangup(relay, p, ok!.text);
    // RFC 3261 12.2.1.1: loose routing keeps the remote target as Request-URI and the route set as Route
    expect(bye).toMatch(new RegExp(`^BYE sip:alice@127\\.0\\.0\\.1:${peer!.port} SIP/2\\.0`));
    expect(bye!.match(/^Route: .*$/gm)).toEqual(rr.map((r) => `Route: ${r}`));
  });

  it("shutdown that cannot wait for the BYE's answer still closes each call's media with its RTP pair", async () => {
    const { relay, phone } = await setup();
    const p = phone();
    const ok = await p.invite();
    await p.send({ method: 'ACK', toTag: toTagOf(ok!.text)!, cseq: 1 }, false);
    await new Promise((r) => setTimeout(r, 50));
    expect([relay.media.size, relay.ports.inUse]).toEqual([1, 1]);
    // the phone never answers the BYE: the call actor is stopped before it ends, and the media goes with it
    await relay.calls.shutdown(0);
    expect({ calls: relay.calls.size, media: relay.media.size, ports: relay.ports.inUse }).toEqual({
      calls: 0,
      media: 0,
      ports: 0,
    });
  });

  it('hang-up by a client: the relay sends BYE (to the phone) and the call ends local-hangup', async () => {
    const { relay, phone } = await setup();
    const p = phone();
    const ok = await p.invite();
    const bye = await byeAfterHangup(relay, p, ok!.text);
    expect(bye).toBeDefined();
    expect(bye).toMatch(new RegExp(`^BYE sip:alice@127\\.0\\.0\\.1:${peer!.port} SIP/2\\.0`)); // to the INVITE's Contact
    expect(bye).toMatch(/^CSeq: \d+ BYE/m);
  });
});
