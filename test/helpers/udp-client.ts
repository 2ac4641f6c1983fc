import { createSocket, type Socket } from 'node:dgram';
import type { ParsedResponse } from '../../src/sip/message/parse.ts';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { viaBranch } from '../../src/sip/message/via.ts';

/** A test UDP peer on 127.0.0.1 that sends raw datagrams and collects the responses by top-Via branch. */
export class UdpPeer {
  readonly responses: ParsedResponse[] = [];
  readonly raw: Buffer[] = [];
  #waiters: Array<() => void> = [];

  private constructor(
    readonly socket: Socket,
    readonly port: number,
  ) {
    socket.on('message', (data) => {
      this.raw.push(data);
      const p = parseMessage(data);
      if (p.ok && p.value.msg.kind === 'response') this.responses.push(p.value as ParsedResponse);
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
    pred: (r: ParsedResponse) => boolean = (r) => r.msg.status >= 200,
  ): Promise<ParsedResponse | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.responses.find((r) => r.via[0] && viaBranch(r.via[0]) === branch && pred(r));
      if (found) return found;
      const left = deadline - Date.now();
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
