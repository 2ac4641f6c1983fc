import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Frame, StreamFramer } from '../../../src/sip/transport/stream-framer.ts';
import { requestText } from '../../helpers/messages.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (f: Frame) => (f.type === 'message' ? new TextDecoder().decode(f.data) : f.type);

describe('StreamFramer (RFC 3261 18.3 over TCP/TLS, RFC 5626 keep-alives)', () => {
  const invite = requestText({ body: 'v=0\r\n', extra: ['Content-Type: application/sdp'] });
  const options = requestText({ method: 'OPTIONS' });

  it('cuts back-to-back messages by Content-Length, body included', () => {
    const f = new StreamFramer();
    expect(f.push(bytes(invite + options)).map(text)).toEqual([invite, options]);
    expect(f.buffered).toBe(0);
  });

  it('any split of the stream gives the same messages (byte by byte too)', () => {
    const whole = bytes(`${invite}\r\n\r\n${options}\r\n${invite}`);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...[...new Set(cuts)].sort((a, b) => a - b), whole.length];
        const f = new StreamFramer();
        const out: Frame[] = [];
        for (let i = 0; i + 1 < points.length; i++)
          out.push(...f.push(whole.subarray(points[i], points[i + 1])));
        expect(out.map(text)).toEqual([invite, 'ping', options, invite]);
      }),
      { numRuns: 300 },
    );
    const f = new StreamFramer();
    const out = [...whole].flatMap((b) => f.push(Uint8Array.of(b)));
    expect(out.map(text)).toEqual([invite, 'ping', options, invite]);
  });

  it('a double CRLF is a ping, a single CRLF a pong (skipped)', () => {
    const f = new StreamFramer();
    expect(f.push(bytes('\r\n\r\n')).map(text)).toEqual(['ping']);
    expect(f.push(bytes('\r\n')).map(text)).toEqual([]);
    expect(f.push(bytes(options)).map(text)).toEqual([options]);
  });

  it('no Content-Length, a bad one, or two that differ: 400 once, then nothing more is read', () => {
    const noLength = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n';
    for (const [msg, reason] of [
      [noLength, /required on a stream/],
      [noLength.replace('\r\n\r\n', '\r\nContent-Length: x1\r\n\r\n'), /bad Content-Length/],
      [noLength.replace('\r\n\r\n', '\r\nContent-Length: 1\r\nl: 2\r\n\r\n'), /conflicting/],
    ] as const) {
      const f = new StreamFramer();
      const [e, ...rest] = f.push(bytes(msg + options));
      expect(rest).toEqual([]);
      expect(e).toMatchObject({ type: 'error', status: 400, reason: expect.stringMatching(reason) });
      expect(new TextDecoder().decode(e?.type === 'error' ? e.head : undefined)).toMatch(/^OPTIONS/);
      expect([f.failed, f.push(bytes(options))]).toEqual([true, []]);
    }
  });

  it('the compact form l: delimits too', () => {
    const compact = options.replace('Content-Length: 0', 'l: 3').replace(/\r\n\r\n$/, '\r\n\r\nabc');
    expect(new StreamFramer().push(bytes(compact + options)).map(text)).toEqual([compact, options]);
  });

  it('a 10 MB Content-Length is refused at once (513), without waiting for or holding the body', () => {
    const f = new StreamFramer();
    const huge = options.replace('Content-Length: 0', 'Content-Length: 10485760');
    expect(f.push(bytes(huge))).toMatchObject([{ type: 'error', status: 513 }]);
    expect(f.buffered).toBe(0);
  });

  it('a header section that never ends is refused past the limit; what it holds stays under it', () => {
    const f = new StreamFramer(4096);
    const line = bytes('X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n');
    expect(f.push(bytes('INVITE sip:a@b SIP/2.0\r\n'))).toEqual([]);
    let out: Frame[] = [];
    for (let i = 0; i < 100 && out.length === 0; i++) {
      out = f.push(line);
      expect(f.buffered).toBeLessThanOrEqual(4096 + line.length);
    }
    expect(out).toMatchObject([{ type: 'error', status: 513 }]);
  });

  it('never throws and never holds more than the limit, whatever arrives', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 8 }), (chunks) => {
        const f = new StreamFramer(8192);
        for (const c of chunks) {
          f.push(c);
          expect(f.buffered).toBeLessThanOrEqual(8192 + 3000);
        }
      }),
      { numRuns: 300 },
    );
  });
});
