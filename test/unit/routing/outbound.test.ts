import { describe, expect, it } from 'vitest';
import { fromWithUser, OutboundPolicy, trunkDial } from '../../../src/routing/outbound.ts';
import { type RouteDefaults, RouteTable } from '../../../src/routing/router.ts';
import { routesFileSchema } from '../../../src/routing/routes-schema.ts';

const defaults = { autoAnswer: false, agent: {} } as unknown as RouteDefaults;
const table = new RouteTable(
  routesFileSchema.parse({
    trunks: [
      { name: 'world', host: '192.0.2.1', prefixes: ['+'] },
      {
        name: 'uk',
        host: 'sip.uk.test',
        transport: 'tls',
        username: 'u',
        password: 'p',
        prefixes: ['+44'],
        callsPerSecond: 2,
      },
      { name: 'london', host: '2001:db8::5', port: 5070, prefixes: ['+4420'], maxCalls: 2 },
    ],
    routes: [{ clients: true }],
    denyPrefixes: ['+44900', '+1900'],
  }),
  defaults,
);

describe('calls out to a URI (transfer targets): the same deny list and limits', () => {
  it("judges the user by the deny list and a trunk's host as that trunk, under its limits", () => {
    const p = new OutboundPolicy(() => 0);
    const pick = (user: string | undefined, host: string, live = 0, limits = true) => {
      const c = p.chooseTarget(table, user, host, () => live, limits);
      return c.ok ? (c.trunk?.name ?? 'none') : c.status;
    };
    expect(pick('+1900555', '192.0.2.1')).toBe(403);
    expect(pick('+1900555', '198.51.100.7')).toBe(403); // whatever the host
    expect(pick('2000', '192.0.2.1')).toBe('world');
    expect(pick('2000', 'SIP.UK.TEST')).toBe('uk');
    expect(pick('2000', '[2001:db8::5]', 2)).toBe(503); // london's maxCalls
    expect(pick('2000', '[2001:db8::5]', 2, false)).toBe('london'); // a REFER we send: the peer dials
    expect(pick(undefined, '198.51.100.7')).toBe('none');
    // uk's 2 calls a second (one taken above): the third at the same instant is refused
    expect([pick('1', 'sip.uk.test'), pick('2', 'sip.uk.test')]).toEqual(['uk', 429]);
  });
});

describe('calls out: deny list, trunk by longest prefix, per-trunk limits', () => {
  it('picks the longest matching prefix, the named trunk, or none', () => {
    const p = new OutboundPolicy(() => 0);
    const pick = (n: string, name?: string) => {
      const c = p.choose(table, n, name, () => 0);
      return c.ok ? (c.trunk?.name ?? 'upstream') : c.status;
    };
    expect(pick('+4420123')).toBe('london');
    expect(pick('+4412')).toBe('uk');
    expect(pick('+3312')).toBe('world');
    expect(pick('0800')).toBe('upstream');
    expect(pick('0800', 'uk')).toBe('uk');
    expect(pick('0800', 'nosuch')).toBe(404);
  });

  it('refuses denied prefixes on any trunk, and beyond maxCalls or callsPerSecond', () => {
    let now = 0;
    const p = new OutboundPolicy(() => now);
    expect(p.choose(table, '+449001', 'world', () => 0)).toMatchObject({ ok: false, status: 403 });
    expect(p.choose(table, '+1900555', undefined, () => 0)).toMatchObject({ ok: false, status: 403 });
    expect(p.choose(table, '+4420999', undefined, () => 2)).toMatchObject({ ok: false, status: 503 });
    expect(p.choose(table, '+4420999', undefined, () => 1).ok).toBe(true);
    // uk: 2 a second, a second's worth at once, then one every 500 ms
    const uk = () => p.choose(table, '+4411', undefined, () => 0).ok;
    expect([uk(), uk(), uk()]).toEqual([true, true, false]);
    now = 400;
    expect(uk()).toBe(false);
    now = 500;
    expect(uk()).toBe(true);
    now = 10_000; // never more than the bucket holds
    expect([uk(), uk(), uk()]).toEqual([true, true, false]);
  });

  it('addresses the call through the trunk: Request-URI, next hop, From, credentials', () => {
    const uk = table.trunks[1]!;
    expect(trunkDial(uk, '+4411', undefined, 'relay')).toEqual({
      uri: 'sip:+4411@sip.uk.test:5061;transport=tls',
      dest: { host: 'sip.uk.test', port: 5061, transport: 'tls' },
      from: '<sip:u@sip.uk.test>',
      credentials: { username: 'u', password: 'p' },
    });
    const london = table.trunks[2]!;
    expect(trunkDial(london, '+4420', '+4420777', 'relay')).toMatchObject({
      uri: 'sip:+4420@[2001:db8::5]:5070',
      from: '<sip:+4420777@[2001:db8::5]>',
    });
    expect(fromWithUser('"Desk" <sip:relay@pbx.test>;x=1', '+4930')).toBe('"Desk" <sip:+4930@pbx.test>;x=1');
  });
});
