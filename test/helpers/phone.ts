import { createSocket, type Socket } from 'node:dgram';
import { decodeG711, encodeG711 } from '../../src/media/g711.ts';

export interface HeardPacket {
  /** performance.now() at arrival */
  readonly at: number;
  readonly samples: Int16Array;
}

export interface SentFrame {
  readonly at: number;
  /** The frame carried audio the test queued (not the phone's own silence). */
  readonly queued: boolean;
  readonly peak: number;
}

/**
 * A scripted softphone on 127.0.0.1 for tests and benchmarks: places one call over UDP (INVITE, ACK, BYE),
 * then sends PCMU RTP every 20 ms on absolute deadlines, like a phone: queued audio, else silence. Every
 * packet it gets back is decoded and time-stamped, so a test can tell exactly when the relay's audio started
 * and stopped relative to what the phone said.
 */
export class Phone {
  readonly heard: HeardPacket[] = [];
  readonly sent: SentFrame[] = [];
  #queue: Int16Array[] = [];
  #timer: NodeJS.Timeout | undefined;
  #seq = 0;
  #ts = 0;
  #relayRtp = 0;
  #toTag = '';
  readonly #callId = `phone-${process.pid}-${Math.random().toString(36).slice(2)}`;

  get callId(): string {
    return this.#callId;
  }

  private constructor(
    private readonly sip: Socket,
    private readonly rtp: Socket,
    private readonly relaySip: number,
  ) {
    rtp.on('message', (d) => {
      if (d.length < 12 || (d[1]! & 0x7f) !== 0) return;
      this.heard.push({ at: performance.now(), samples: decodeG711('PCMU', d.subarray(12)) });
    });
  }

  /** Calls the relay and resolves once the call is established (200 OK received, ACK sent). */
  static async call(relaySipPort: number): Promise<Phone> {
    const sip = createSocket('udp4');
    const rtp = createSocket('udp4');
    await new Promise<void>((r) => sip.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', () => r()));
    const phone = new Phone(sip, rtp, relaySipPort);
    await phone.#invite();
    phone.#start();
    return phone;
  }

  get #me(): number {
    return this.sip.address().port;
  }

  #request(method: string, cseq: number, extra = '', body = ''): string {
    return (
      `${method} sip:relay@127.0.0.1:${this.relaySip} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${this.#me};branch=z9hG4bK-${method}-${this.#callId}-${cseq};rport\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:phone@127.0.0.1>;tag=p${this.#callId}\r\n` +
      `To: <sip:relay@127.0.0.1>${this.#toTag ? `;tag=${this.#toTag}` : ''}\r\n` +
      `Call-ID: ${this.#callId}\r\nCSeq: ${cseq} ${method}\r\n` +
      `Contact: <sip:phone@127.0.0.1:${this.#me}>\r\n${extra}` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    );
  }

  async #invite(): Promise<void> {
    const port = this.rtp.address().port;
    const sdp = `v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n`;
    const invite = this.#request('INVITE', 1, 'Content-Type: application/sdp\r\n', sdp);
    await new Promise<void>((resolve, reject) => {
      const retransmit = setInterval(() => this.sip.send(invite, this.relaySip, '127.0.0.1'), 500);
      const giveUp = setTimeout(() => {
        clearInterval(retransmit);
        reject(new Error('no 200 OK to the INVITE'));
      }, 5000);
      const onMessage = (d: Buffer) => {
        const t = d.toString('latin1');
        if (!/^SIP\/2\.0 200/.test(t) || !/^CSeq: 1 INVITE/im.test(t)) return;
        this.#toTag = /^To:.*;tag=([^;\s]+)/im.exec(t)?.[1] ?? '';
        this.#relayRtp = Number(/m=audio (\d+)/.exec(t)?.[1]);
        this.sip.send(this.#request('ACK', 1), this.relaySip, '127.0.0.1');
        clearInterval(retransmit);
        clearTimeout(giveUp);
        resolve();
      };
      this.sip.on('message', onMessage);
      this.sip.send(invite, this.relaySip, '127.0.0.1');
    });
  }

  /** Queues 8 kHz audio to say after whatever is queued; resolves when its last frame has been sent. */
  say(samples: Int16Array): Promise<void> {
    for (let o = 0; o < samples.length; o += 160) {
      const f = new Int16Array(160);
      f.set(samples.subarray(o, o + 160));
      this.#queue.push(f);
    }
    return this.until(() => this.#queue.length === 0, 60_000);
  }

  /** Polls every 5 ms until `done()` holds; rejects after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!done()) {
      if (performance.now() > end) throw new Error('phone: timed out waiting');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  #start(): void {
    const t0 = performance.now();
    let n = 0;
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header.writeUInt32BE(0x5eed, 8);
    const loop = () => {
      const now = performance.now();
      while (t0 + n * 20 <= now) {
        const queued = this.#queue.shift();
        const frame = queued ?? new Int16Array(160);
        header.writeUInt16BE(this.#seq, 2);
        header.writeUInt32BE(this.#ts >>> 0, 4);
        this.rtp.send(Buffer.concat([header, encodeG711('PCMU', frame)]), this.#relayRtp, '127.0.0.1');
        let peak = 0;
        for (const v of frame) peak = Math.max(peak, Math.abs(v));
        this.sent.push({ at: performance.now(), queued: queued !== undefined, peak });
        this.#seq = (this.#seq + 1) & 0xffff;
        this.#ts += 160;
        n++;
      }
      this.#timer = setTimeout(loop, Math.max(0, t0 + n * 20 - performance.now()));
    };
    loop();
  }

  /** Sends BYE and closes the sockets. */
  async hangup(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.sip.send(this.#request('BYE', 2), this.relaySip, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    this.sip.close();
    this.rtp.close();
  }
}

/** Peak absolute sample of a packet's audio. */
export const peakOf = (x: Int16Array): number => {
  let p = 0;
  for (const v of x) p = Math.max(p, Math.abs(v));
  return p;
};
