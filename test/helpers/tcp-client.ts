import { connect, type Socket } from 'node:net';
import { StreamFramer } from '../../src/sip/transport/stream-framer.ts';

/** A raw SIP-over-TCP peer on loopback: what it received, cut into messages; `closed` once the relay hangs up. */
export class TcpPeer {
  readonly messages: string[] = [];
  readonly raw: Buffer[] = [];
  closed = false;
  readonly #framer = new StreamFramer(1 << 20);

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.raw.push(d);
      for (const f of this.#framer.push(d))
        if (f.type === 'message') this.messages.push(new TextDecoder().decode(f.data));
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  /** Connects to host:port, from `from` when given (any 127/8 address is this machine). */
  static open(port: number, host = '127.0.0.1', from?: string): Promise<TcpPeer> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port, ...(from ? { localAddress: from } : {}) }, () =>
        resolve(new TcpPeer(s)),
      );
      s.once('error', reject);
    });
  }

  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Waits for a message matching `re` (from the index `from` on). */
  async waitFor(re: RegExp, timeoutMs = 3000, from = 0): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = this.messages.slice(from).find((t) => re.test(t));
      if (m) return m;
      if (performance.now() > deadline) throw new Error(`no message matching ${re} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!this.closed) {
      if (performance.now() > deadline) throw new Error('the connection stayed open');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
