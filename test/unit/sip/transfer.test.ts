import { describe, expect, it } from 'vitest';
import { parseSipfrag, readReferNotify, referSubSuppressed, sipfrag } from '../../../src/sip/dialog/refer.ts';
import {
  parseTargetPatterns,
  resolveTransferTarget,
  type TargetPattern,
} from '../../../src/sip/dialog/transfer-target.ts';
import { parsedRequest } from '../../helpers/messages.ts';

const patterns = (list: string[]): TargetPattern[] => {
  const p = parseTargetPatterns(list);
  if (!p.ok) throw new Error(p.error);
  return p.value;
};

describe('transfer targets (TRANSFER_ALLOWED_TARGETS)', () => {
  const upstream = '10.0.0.5:5060';
  const resolve = (t: string, list: string[]) => resolveTransferTarget(t, upstream, patterns(list));

  it('a bare number goes to the upstream server; a host pattern allows any user and port there', () => {
    expect(resolve('1002', ['10.0.0.5'])).toEqual({
      ok: true,
      value: expect.objectContaining({ text: 'sip:1002@10.0.0.5:5060' }),
    });
    expect(resolve('<sip:+4930123@10.0.0.5:5070>', ['10.0.0.5']).ok).toBe(true);
    expect(resolve('sips:1002@10.0.0.5', ['10.0.0.5']).ok).toBe(true);
  });

  it('refuses every other host, whatever the user or scheme: no dialling out through a transfer', () => {
    for (const t of ['sip:1002@10.0.0.6', 'sip:0900@evil.example', 'sips:1002@[2001:db8::1]']) {
      expect(resolve(t, ['10.0.0.5'])).toMatchObject({ ok: false, error: { code: 'forbidden_target' } });
    }
    expect(resolve('1002', [])).toMatchObject({ ok: false, error: { code: 'forbidden_target' } });
  });

  it('host:port, user globs and IPv6 patterns', () => {
    expect(resolve('sip:1@10.0.0.5:5060', ['10.0.0.5:5060']).ok).toBe(true);
    expect(resolve('sip:1@10.0.0.5:5070', ['10.0.0.5:5060']).ok).toBe(false);
    expect(resolve('sip:1@10.0.0.5', ['10.0.0.5:5060']).ok).toBe(true); // no port: 5060
    const agents = ['sip:+4930*@trunk.example.com', 'sip:1002@pbx'];
    expect(resolve('sip:+493012345@trunk.example.com', agents).ok).toBe(true);
    expect(resolve('sip:%2B493012345@TRUNK.example.com:5080', agents).ok).toBe(true); // escaped, any port
    expect(resolve('sip:+4940123@trunk.example.com', agents).ok).toBe(false);
    expect(resolve('sip:1002@pbx', agents).ok).toBe(true);
    expect(resolve('sip:10020@pbx', agents).ok).toBe(false); // a glob only where the pattern has *
    expect(resolve('sip:trunk.example.com', agents).ok).toBe(false); // a user pattern needs a user
    expect(resolve('sip:7@[2001:db8::1]:5060', ['[2001:db8::1]']).ok).toBe(true);
  });

  it('refuses URIs that would send the request elsewhere or add headers to it', () => {
    expect(resolve('sip:1002@10.0.0.5;maddr=192.0.2.1', ['10.0.0.5'])).toMatchObject({
      ok: false,
      error: { code: 'bad_target' },
    });
    expect(resolve('sip:1002@10.0.0.5?Route=%3Csip:192.0.2.1%3E', ['10.0.0.5'])).toMatchObject({
      ok: false,
      error: { code: 'bad_target' },
    });
    expect(resolve('tel:+4930123', ['10.0.0.5'])).toMatchObject({ ok: false, error: { code: 'bad_target' } });
    expect(resolve('1002; drop table', ['10.0.0.5'])).toMatchObject({
      ok: false,
      error: { code: 'bad_target' },
    });
  });

  it('names every bad pattern', () => {
    const r = parseTargetPatterns(['pbx', 'not a host', 'sip:1@pbx;transport=tcp', 'http://x']);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.split('; ')).toHaveLength(3);
  });
});

describe('REFER and its NOTIFYs (RFC 3515, RFC 4488)', () => {
  const notify = (extra: string[], body = '') =>
    parsedRequest({ method: 'NOTIFY', toTag: 't1', cseq: 2, extra, body });

  it('reads the sipfrag status line and the subscription state', () => {
    expect(parseSipfrag(new TextEncoder().encode('SIP/2.0 486 Busy Here\r\n'))).toEqual({
      status: 486,
      reason: 'Busy Here',
    });
    expect(parseSipfrag(new TextEncoder().encode('INVITE sip:x SIP/2.0\r\n'))).toBeUndefined();
    expect(parseSipfrag(sipfrag(100, 'Trying').data)).toEqual({ status: 100, reason: 'Trying' });
    const n = notify(
      [
        'Event: refer;id=7',
        'Subscription-State: terminated;reason=noresource',
        'Content-Type: message/sipfrag',
      ],
      'SIP/2.0 200 OK\r\n',
    );
    expect(readReferNotify(n)).toEqual({
      ok: true,
      notify: { frag: { status: 200, reason: 'OK' }, terminated: true },
    });
    expect(readReferNotify(notify(['o: refer', 'Subscription-State: active']))).toEqual({
      ok: true,
      notify: { frag: undefined, terminated: false },
    });
  });

  it('489 for another event package, 400 without Subscription-State', () => {
    expect(readReferNotify(notify(['Event: dialog', 'Subscription-State: active']))).toMatchObject({
      ok: false,
      status: 489,
    });
    expect(readReferNotify(notify(['Event: refer']))).toMatchObject({ ok: false, status: 400 });
  });

  it('Refer-Sub: false', () => {
    expect(referSubSuppressed(notify(['Refer-Sub: FALSE']).msg)).toBe(true);
    expect(referSubSuppressed(notify(['Refer-Sub: true']).msg)).toBe(false);
  });
});
