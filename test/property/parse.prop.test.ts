import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/sip/message/parse.ts';
import { serialize } from '../../src/sip/message/serialize.ts';
import { fillCase, loadProtosCases } from '../helpers/protos.ts';
import { listVectors, readVector, VECTORS_DIR } from '../helpers/vectors.ts';

const enc = new TextEncoder();

/** A plausible SIP message built from pieces, so the properties reach deep into the parser. */
const token = fc.stringMatching(/^[A-Za-z0-9.!%*_+`'~-]{1,12}$/);
/** Mostly good values, sometimes bad: both paths of the parser get exercised. */
const mostly = <T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: bad, weight: 1 });
const host = mostly(
  fc.oneof(
    fc.ipV4(),
    fc.ipV6().map((a) => `[${a}]`),
    fc.domain(),
  ),
  fc.stringMatching(/^[a-z0-9:.[\]-]{1,20}$/),
);
const port = fc.option(mostly(fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 0, max: 70000 })), {
  nil: undefined,
});
const hostport = fc.tuple(host, port).map(([h, p]) => (p === undefined ? h : `${h}:${p}`));
const uri = fc
  .tuple(
    fc.constantFrom('sip', 'sips', 'tel', 'x-y'),
    fc.option(token, { nil: undefined }),
    hostport,
    fc.array(token, { maxLength: 3 }),
  )
  .map(([s, u, hp, ps]) => `${s}:${u ? `${u}@` : ''}${hp}${ps.map((p) => `;${p}`).join('')}`);
const nameAddr = fc
  .tuple(
    fc.option(
      fc.oneof(
        token,
        fc.string({ maxLength: 10 }).map((s) => `"${s}"`),
      ),
      { nil: undefined },
    ),
    uri,
    fc.option(token, { nil: undefined }),
  )
  .map(([dn, u, tag]) => `${dn ? `${dn} ` : ''}<${u}>${tag ? `;tag=${tag}` : ''}`);
const via = fc
  .tuple(fc.constantFrom('UDP', 'TCP', 'TLS'), hostport, token, fc.boolean())
  .map(([t, hp, b, r]) => `SIP/2.0/${t} ${hp};branch=z9hG4bK${b}${r ? ';rport' : ''}`);
const method = fc.oneof(
  fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'INFO'),
  token,
);
const noise = fc.string({ maxLength: 30, unit: 'binary' });

const message = fc
  .record({
    method,
    ruri: uri,
    vias: mostly(fc.array(via, { minLength: 1, maxLength: 4 }), fc.constant([] as string[])),
    from: nameAddr,
    to: nameAddr,
    callId: mostly(token, noise),
    cseq: fc.tuple(
      mostly(fc.nat({ max: 2 ** 31 - 1 }), fc.nat({ max: 2 ** 32 })),
      mostly(fc.constant(true), fc.boolean()),
    ),
    extra: fc.array(
      mostly(
        fc.tuple(
          token.map((t) => `X-${t}`),
          fc.string({ maxLength: 20 }).map((v) => v.replace(/[\r\n]/g, '')),
        ),
        fc.tuple(fc.oneof(token, fc.constantFrom('v', 'l', 'Content-Length', 'm', 'i')), noise),
      ),
      { maxLength: 4 },
    ),
    body: fc.string({ maxLength: 60 }),
    cl: fc.option(mostly(fc.constant(-1), fc.integer({ min: -5, max: 90 })), { nil: undefined }),
    folded: fc.boolean(),
    response: fc.option(mostly(fc.integer({ min: 100, max: 699 }), fc.integer({ min: 0, max: 1000 })), {
      nil: undefined,
    }),
  })
  .map((m) => {
    const start =
      m.response === undefined ? `${m.method} ${m.ruri} SIP/2.0` : `SIP/2.0 ${m.response} Whatever`;
    const lines = [
      start,
      ...m.vias.map((v) => `Via: ${v}`),
      m.folded ? `From:\r\n ${m.from}` : `From: ${m.from}`,
      `To: ${m.to}`,
      `Call-ID: ${m.callId}`,
      `CSeq: ${m.cseq[0]} ${m.cseq[1] ? m.method : 'INVITE'}`,
      ...m.extra.map(([n, v]) => `${n}: ${v}`),
      ...(m.cl === undefined ? [] : [`Content-Length: ${m.cl === -1 ? enc.encode(m.body).length : m.cl}`]),
    ];
    return enc.encode(`${lines.join('\r\n')}\r\n\r\n${m.body}`);
  });

/** Random byte edits of a message: flips, cuts and insertions of SIP delimiters. */
const mutated = fc
  .tuple(
    message,
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom(0, 0x0a, 0x0d, 0x20, 0x3a, 0x3b, 0x3c, 0x3e, 0x22, 0x2c, 0x40, 0x5b, 0x25, 0xff),
      ),
      { maxLength: 6 },
    ),
  )
  .map(([bytes, edits]) => {
    const out = Array.from(bytes);
    for (const [pos, b] of edits) if (out.length > 0) out[pos % out.length] = b;
    return Uint8Array.from(out);
  });

/** serialize(parse(x)) is a fixed point: parsing and serializing again gives the same bytes. */
function expectStable(data: Uint8Array): void {
  const first = parseMessage(data);
  if (!first.ok) return;
  const once = serialize(first.value.msg);
  const second = parseMessage(once);
  expect(second.ok ? 'ok' : second.error.reason).toBe('ok');
  if (second.ok) expect(Buffer.from(serialize(second.value.msg)).equals(Buffer.from(once))).toBe(true);
}

describe('parser properties (fast-check)', () => {
  it('parse never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
        parseMessage(data);
      }),
      { numRuns: 3000 },
    );
  });

  it('parse never throws on SIP-shaped messages and their mutations', () => {
    fc.assert(
      fc.property(fc.oneof(message, mutated), (data) => {
        const r = parseMessage(data);
        if (!r.ok) expect(r.error.status).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 5000 },
    );
  });

  it('some generated messages do parse (the generator reaches the happy path)', () => {
    let parsed = 0;
    fc.assert(
      fc.property(message, (data) => {
        if (parseMessage(data).ok) parsed++;
      }),
      { numRuns: 500 },
    );
    expect(parsed).toBeGreaterThan(100);
  });

  it('serialize(parse(x)) is stable on generated and mutated messages', () => {
    fc.assert(fc.property(fc.oneof(message, mutated), expectStable), { numRuns: 5000 });
  });
});

describe.skipIf(!VECTORS_DIR)('serialize(parse(x)) is stable on the vectors', () => {
  it('RFC 4475 and RFC 5118', () => {
    for (const f of listVectors('rfc4475')) expectStable(readVector('rfc4475', f));
    for (const f of listVectors('rfc5118')) expectStable(readVector('rfc5118', f));
  });
  it('PROTOS c07-sip', () => {
    for (const c of loadProtosCases()) expectStable(fillCase(c.invite, { port: 5999, id: String(c.index) }));
  });
});
