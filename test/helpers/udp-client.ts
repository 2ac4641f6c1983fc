import { createSocket, type Socket } from 'node:dgram';
import type { ParsedResponse } from '../../src/sip/message/parse.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { viaBranch } from '../../src/sip/message/via.ts';

/** A test UDP peer on 127.0.0.1 that sends raw datagrams and collects the responses by top-Via branch. */
/**
 * A response as the test saw it. Our answers to malformed requests echo their malformed headers (RFC 3261
 * 8.2.6.2 copies Via, From, To, Call-ID, CSeq), so status and branch are also read textually.
 */
export interface SeenResponse {
  readonly status: number;
  readonly branch: string | undefined;
  readonly text: string;
  readonly parsed: ParsedResponse | undefined;
}

export class UdpPeer {
  readonly responses: SeenResponse[] = [];
  readonly raw: Buffer[] = [];
  #waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (data) => {
      this.raw.push(data);
      const text = data.toString('latin1');
      const status = /^SIP\/2\.0 (\d{3})/.exec(text);
      if (status) {
        const p = parseMessage(data);
        const parsed = p.ok && p.value.msg.kind === 'response' ? (p.value as ParsedResponse) : undefined;
        const branch = parsed?.via[0] ? viaBranch(parsed.via[0]) : /branch=([^;,\s]+)/.exec(text)?.[1];
        this.responses.push({ status: Number(status[1]), branch, text, parsed });
      }
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(): Promise<UdpPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    return new UdpPeer(socket, socket.address().port);
  }

  send(data: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(data, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  }

  /** The first response with this branch matching `pred`, or undefined after timeoutMs of silence. */
  async waitFor(
    branch: string,
    timeoutMs: number,
    pred: (r: SeenResponse) => boolean = (r) => r.status >= 200,
  ): Promise<SeenResponse | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.responses.find((r) => r.branch === branch && pred(r));
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

export function optionsRequest(port: number, branch: string, callId = `probe-${branch}`): Buffer {
  return Buffer.from(
    `OPTIONS sip:relay@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:relay@127.0.0.1>\r\n` +
      `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
  );
}
