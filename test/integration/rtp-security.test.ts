import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { encodeG711 } from '../../src/media/g711.ts';
import type { Relay } from '../../src/relay.ts';
import { buildRtp } from '../../src/rtp/packet.ts';
import { requestText } from '../helpers/messages.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { UdpPeer } from '../helpers/udp-client.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function udp(): Promise<Socket & { got: number[] }> {
  const s = createSocket('udp4') as Socket & { got: number[] };
  s.got = [];
  s.on('message', () => s.got.push(performance.now()));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

const sdp = (port: number, o: { address?: string; direction?: string; version?: number } = {}) =>
  [
    'v=0',
    `o=- 1 ${o.version ?? 1} IN IP4 127.0.0.1`,
    's=-',
    `c=IN IP4 ${o.address ?? '127.0.0.1'}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    `a=${o.direction ?? 'sendrecv'}`,
    '',
  ].join('\r\n');

/** A caller speaking raw SIP over UDP: INVITE, ACK, re-INVITE, BYE in one dialog. */
class Caller {
  #n = 0;
  #cseq = 1;
  toTag = '';
  relayRtp = 0;
  readonly callId = `sec-${Math.random().toString(36).slice(2)}`;
  constructor(
    readonly sip: UdpPeer,
    readonly relay: Relay,
  ) {
    // a BYE from the relay gets its 200 (RFC 3261 15.1.2), echoing Via, From, To, Call-ID and CSeq
    sip.socket.on('message', (d) => {
      const text = d.toString();
      if (!text.startsWith('BYE ')) return;
      const keep = text.split('\r\n').filter((l) => /^(Via|From|To|Call-ID|CSeq):/i.test(l));
      const ok = `SIP/2.0 200 OK\r\n${keep.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
      sip.socket.send(ok, relay.sip.port, '127.0.0.1');
    });
  }

  async request(method: string, body = '', cseq = this.#cseq) {
    const branch = `z9hG4bK-sec-${this.callId}-${++this.#n}`;
    const text = requestText({
      method,
      branch,
      callId: this.callId,
      cseq,
      sentBy: `127.0.0.1:${this.sip.port}`,
      contact: `<sip:alice@127.0.0.1:${this.sip.port}>`,
      ...(this.toTag ? { toTag: this.toTag } : {}),
      body,
      extra: body ? ['Content-Type: application/sdp'] : [],
    }).replace('sip:relay@127.0.0.1:5062', `sip:relay@127.0.0.1:${this.relay.sip.port}`);
    await this.sip.send(Buffer.from(text), this.relay.sip.port);
    return method === 'ACK' ? undefined : this.sip.waitFor(branch, 3000);
  }

  /** INVITE (or re-INVITE) with this SDP; ACKs a 200. Returns the final response. */
  async invite(body: string) {
    const seq = this.#cseq;
    const r = await this.request('INVITE', body, seq);
    this.#cseq++;
    if (r?.status === 200) {
      this.toTag ||= /^To:.*;tag=([^;\s]+)/m.exec(r.text)?.[1] ?? '';
      this.relayRtp = Number(/m=audio (\d+)/.exec(r.text)?.[1]);
      await this.request('ACK', '', seq);
    }
    return r;
  }

  bye() {
    return this.request('BYE', '', this.#cseq++);
  }
}

/** Sends PCMU to the relay's RTP port every 20 ms from `from` until stopped. */
function stream(from: Socket, to: number, ssrc: number, level: number): () => void {
  let seq = 0;
  const payload = encodeG711('PCMU', new Int16Array(160).fill(level));
  const t = setInterval(() => {
    seq++;
    from.send(
      buildRtp({ marker: false, payloadType: 0, sequence: seq, timestamp: seq * 160, ssrc, payload }),
      to,
      '127.0.0.1',
    );
  }, 20);
  return () => clearInterval(t);
}

let relay: Relay | undefined;
const open: Array<{ close(): unknown }> = [];
const stops: Array<() => void> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) s();
  await relay?.close();
  relay = undefined;
  for (const s of open.splice(0)) s.close();
});

async function setup(env: Record<string, string> = {}) {
  relay = await startTestRelay({ RTP_PORT_START: '44600', RTP_PORT_END: '44699', ...env });
  const sip = await UdpPeer.open();
  open.push(sip);
  const events: CallEvent[] = [];
  relay.calls.events$.subscribe((e) => events.push(e));
  return { relay, caller: new Caller(sip, relay), events };
}

async function socket() {
  const s = await udp();
  open.push(s);
  return s;
}

describe('RTP against a hostile peer', () => {
  it('a stranger spraying RTP before the caller speaks does not take the call: the SDP address wins', async () => {
    const { relay, caller } = await setup();
    const phone = await socket();
    const attacker = await socket();
    expect((await caller.invite(sdp(phone.address().port)))?.status).toBe(200);
    // the attacker sprays first (in the field: every even port of the range, before the call starts)
    stops.push(stream(attacker, caller.relayRtp, 0xbad, 9000));
    await wait(300);
    stops.push(stream(phone, caller.relayRtp, 0x600d, 500));
    await wait(200);
    const switched = performance.now();
    const attackerBefore = attacker.got.length;
    const phoneBefore = phone.got.length;
    await wait(600);
    const session = relay.media.session(caller.callId)!;
    expect(phone.got.length - phoneBefore).toBeGreaterThan(20); // the caller hears the relay
    expect(attacker.got.filter((t) => t > switched).length).toBe(0); // the attacker hears nothing more
    expect(attackerBefore).toBeLessThan(40); // only while the caller was silent (at most ~0.5 s)
    expect(session.stats.ignored).toBeGreaterThan(20); // the attacker's packets are dropped now
    expect(session.remote).toEqual({ address: '127.0.0.1', port: phone.address().port });
  });

  it('media aimed at multicast, broadcast, unspecified-v6 or the relay itself gets 488 and nothing is sent', async () => {
    const { relay, caller } = await setup();
    for (const [address, port, reason] of [
      ['239.255.255.250', 1900, 'is not unicast'],
      ['224.0.0.1', 5004, 'is not unicast'],
      ['255.255.255.255', 5004, 'is not unicast'],
      ['127.0.0.1', relay.sip.port, 'is the relay itself'],
    ] as const) {
      const c = new Caller(caller.sip, relay);
      const r = await c.invite(sdp(port, { address }));
      expect(r?.status, address).toBe(488);
      expect(r?.text).toContain(`Not Acceptable Here (media address ${address}:${port} ${reason})`);
    }
    expect(relay.ports.inUse).toBe(0);
    expect(relay.calls.size).toBe(0);
  });

  it('a peer that never sends anything: we stop sending after RTP_START_TIMEOUT_S and hang up', async () => {
    const { relay, caller, events } = await setup({ RTP_START_TIMEOUT_S: '1' });
    const victim = await socket(); // the SDP names it; it never sends a packet
    const t0 = performance.now();
    expect((await caller.invite(sdp(victim.address().port)))?.status).toBe(200);
    await wait(2500);
    // 50 packets a second for about a second, then nothing: bounded, not the ~4,600 of a whole call
    expect(victim.got.length).toBeGreaterThan(30);
    expect(victim.got.length).toBeLessThan(90);
    expect(victim.got.at(-1)! - t0).toBeLessThan(1800);
    expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'rtp-timeout' });
    expect(caller.sip.raw.some((b) => b.toString().startsWith('BYE '))).toBe(true);
    expect(relay.ports.inUse).toBe(0);
  });

  it('a re-INVITE to multicast gets 488 and the call goes on where it was', async () => {
    const { relay, caller } = await setup();
    const phone = await socket();
    expect((await caller.invite(sdp(phone.address().port)))?.status).toBe(200);
    stops.push(stream(phone, caller.relayRtp, 1, 500));
    const r = await caller.invite(sdp(5004, { address: '239.1.1.1', version: 2 }));
    expect(r?.status).toBe(488);
    await wait(200);
    const n = phone.got.length;
    await wait(300);
    expect(phone.got.length - n).toBeGreaterThan(10);
    expect(relay.calls.size).toBe(1);
  });
});

describe('hold and moved media (RFC 3264 8.4, 8.3.1)', () => {
  /** Packets the socket got in the next `ms`. */
  const during = async (s: { got: number[] }, ms: number) => {
    const n = s.got.length;
    await wait(ms);
    return s.got.length - n;
  };

  it('sendonly, inactive and c=0.0.0.0 holds stop our RTP; an inactive hold is not hung up; resume sends again', async () => {
    const { relay, caller, events } = await setup({ RTP_TIMEOUT_S: '1', RTP_START_TIMEOUT_S: '1' });
    const phone = await socket();
    const port = phone.address().port;
    expect((await caller.invite(sdp(port)))?.status).toBe(200);
    const talk = stream(phone, caller.relayRtp, 7, 500);
    await wait(200);
    expect(await during(phone, 300)).toBeGreaterThan(10);

    // a=sendonly: the holder plays music on hold and wants nothing back
    const held = await caller.invite(sdp(port, { direction: 'sendonly', version: 2 }));
    expect(held?.text).toContain('a=recvonly');
    await wait(100);
    expect(await during(phone, 400)).toBe(0);

    // a=inactive: nobody sends; the inactivity timer (1 s here) must not end the held call
    talk();
    expect((await caller.invite(sdp(port, { direction: 'inactive', version: 3 })))?.text).toContain(
      'a=inactive',
    );
    expect(await during(phone, 2500)).toBe(0);
    expect(relay.calls.size).toBe(1);

    // RFC 2543 hold: c=0.0.0.0
    expect((await caller.invite(sdp(port, { address: '0.0.0.0', version: 4 })))?.status).toBe(200);
    expect(await during(phone, 400)).toBe(0);

    // resume
    stops.push(stream(phone, caller.relayRtp, 7, 500));
    expect((await caller.invite(sdp(port, { version: 5 })))?.text).toContain('a=sendrecv');
    await wait(100);
    expect(await during(phone, 400)).toBeGreaterThan(10);
    expect(events.some((e) => e.type === 'call.ended')).toBe(false);
  });

  it('a re-INVITE moving media to a new port: our RTP follows it, and the new source is heard', async () => {
    const { relay, caller } = await setup();
    const oldPort = await socket();
    const newPort = await socket();
    expect((await caller.invite(sdp(oldPort.address().port)))?.status).toBe(200);
    const stopOld = stream(oldPort, caller.relayRtp, 1, 500);
    await wait(300);
    expect(oldPort.got.length).toBeGreaterThan(5);
    expect((await caller.invite(sdp(newPort.address().port, { version: 2 })))?.status).toBe(200);
    stopOld();
    stops.push(stream(newPort, caller.relayRtp, 2, 500));
    await wait(200);
    expect(await during(newPort, 400)).toBeGreaterThan(10);
    expect(await during(oldPort, 400)).toBe(0);
    const s = relay.media.session(caller.callId)!;
    const received = s.stats.received;
    await wait(300);
    expect(s.stats.received - received).toBeGreaterThan(10); // the new source's packets are taken
  });
});
