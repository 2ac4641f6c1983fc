import { describe, expect, it } from 'vitest';
import { RtpPortPool } from '../../src/io/media/rtp-port-pool.ts';

describe('RTP port pool', () => {
  it('hands out pairs at random (a stranger cannot guess the next call’s port), each once, all back', async () => {
    const pool = new RtpPortPool('127.0.0.1', 45000, 45399); // 200 pairs
    const got = [];
    for (let i = 0; i < 20; i++) got.push((await pool.allocate())!);
    const ports = got.map((p) => p.rtpPort);
    expect(new Set(ports).size).toBe(20);
    expect(ports.every((p) => p % 2 === 0 && p >= 45000 && p <= 45398)).toBe(true);
    expect(got.every((p) => p.rtcpPort === p.rtpPort + 1)).toBe(true);
    // sequential would be 45000, 45002, ...: 20 random picks out of 200 are not that (chance ~1e-40)
    expect(ports).not.toEqual(ports.map((_, i) => 45000 + 2 * i));
    expect(ports.filter((p, i) => i > 0 && p === ports[i - 1]! + 2).length).toBeLessThan(10);
    for (const p of got) await pool.release(p);
    expect([pool.inUse, pool.available]).toEqual([0, 200]);
  });
});
