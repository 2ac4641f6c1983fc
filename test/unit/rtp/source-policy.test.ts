import { describe, expect, it } from 'vitest';
import { RtpSourcePolicy } from '../../../src/rtp/source-policy.ts';

const SDP = { address: '192.0.2.10', port: 4000 };

describe('RTP source policy (strict symmetric RTP)', () => {
  it('sends to the SDP address until something is learnt', () => {
    const p = new RtpSourcePolicy(SDP, { symmetric: true, signalling: '198.51.100.7' });
    expect(p.target).toEqual(SDP);
    expect(p.latched).toBe(false);
  });

  it('a stranger on another IP never latches, before or after the call starts', () => {
    const p = new RtpSourcePolicy(SDP, { symmetric: true, signalling: '198.51.100.7' });
    expect(p.accept('203.0.113.66', 30000)).toBe(false);
    expect(p.target).toEqual(SDP);
  });

  it('behind NAT: the signalling IP with another port latches first; the SDP address then wins and keeps it', () => {
    const p = new RtpSourcePolicy(
      { address: '10.0.0.5', port: 4000 },
      { symmetric: true, signalling: '198.51.100.7' },
    );
    expect(p.accept('198.51.100.7', 61000)).toBe(true);
    expect(p.target).toEqual({ address: '198.51.100.7', port: 61000 });
    expect(p.accept('198.51.100.7', 61002)).toBe(false); // one latched source only
    expect(p.accept('10.0.0.5', 4000)).toBe(true); // the SDP address re-latches
    expect(p.target).toEqual({ address: '10.0.0.5', port: 4000 });
    expect(p.accept('198.51.100.7', 61000)).toBe(false); // and nobody else comes back
  });

  it('once the SDP address was heard, no other source is taken, even from the same IP', () => {
    const p = new RtpSourcePolicy(SDP, { symmetric: true, signalling: SDP.address });
    expect(p.accept(SDP.address, SDP.port)).toBe(true);
    expect(p.accept(SDP.address, 4002)).toBe(false);
    expect(p.target).toEqual(SDP);
  });

  it('without symmetric RTP only the SDP address is taken', () => {
    const p = new RtpSourcePolicy(SDP, { symmetric: false, signalling: '198.51.100.7' });
    expect(p.accept('198.51.100.7', 61000)).toBe(false);
    expect(p.accept(SDP.address, SDP.port)).toBe(true);
  });

  it('a re-INVITE to a new address starts afresh there; the same address keeps what was learnt', () => {
    const p = new RtpSourcePolicy(SDP, { symmetric: true, signalling: '198.51.100.7' });
    expect(p.accept(SDP.address, SDP.port)).toBe(true);
    expect(p.setSdp({ ...SDP })).toBe(false);
    expect(p.latched).toBe(true);
    expect(p.setSdp({ address: '192.0.2.10', port: 5000 })).toBe(true);
    expect(p.target).toEqual({ address: '192.0.2.10', port: 5000 });
    expect(p.accept(SDP.address, SDP.port)).toBe(true); // same IP, still learning: the old port may latch
    expect(p.accept('192.0.2.10', 5000)).toBe(true); // until the new SDP address speaks, which wins
    expect(p.target).toEqual({ address: '192.0.2.10', port: 5000 });
    expect(p.setSdp(undefined)).toBe(true); // held with c=0.0.0.0: nowhere to send
    expect(p.target).toBeUndefined();
  });
});
