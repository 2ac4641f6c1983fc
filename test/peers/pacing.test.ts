import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { speechLike, wavFile } from '../helpers/audio.ts';
import { freeUdpPort, hasBinary, startCapture } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';
import { sipp } from '../helpers/sipp.ts';

const MEDIA_PORT = 46300;

/** tshark's `-z rtp,streams` row for our stream: packets, lost, deltas and jitter in ms. */
function rtpStreams(pcap: string) {
  const out = spawnSync(
    'tshark',
    ['-r', pcap, '-q', '-d', `udp.port==${MEDIA_PORT},rtp`, '-z', 'rtp,streams'],
    {
      encoding: 'utf8',
    },
  ).stdout;
  const row = out.split('\n').find((l) => /\s127\.0\.0\.1\s+\d+\s+127\.0\.0\.1\s+46300\s/.test(l));
  if (!row) throw new Error(`no RTP stream in:\n${out}`);
  const f = row.trim().split(/\s+/);
  // start end src sport dst dport ssrc payload pkts lost (pct) minΔ meanΔ maxΔ minJ meanJ maxJ
  return {
    payload: f[7],
    packets: Number(f[8]),
    lost: Number(f[9]),
    meanDelta: Number(f[12]),
    maxDelta: Number(f[13]),
    maxJitter: Number(f[16]),
  };
}

/**
 * One outgoing call that plays a 3 s greeting, captured by tshark: its RTP stream's figures, the rate of the
 * wall clock (tshark's) against the monotonic one (the relay's), and whether the machine itself stalled.
 */
async function pacedCall() {
  const dir = mkdtempSync(join(tmpdir(), 'pacing-'));
  writeFileSync(join(dir, 'greeting.wav'), wavFile(speechLike(16000, 3, 5), 16000));
  const pcap = join(dir, 'call.pcapng');
  const capture = await startCapture(`udp and dst port ${MEDIA_PORT}`, pcap);
  const port = await freeUdpPort();
  const peer = sipp(
    'uas-answer.xml',
    undefined,
    ['-m', '1', '-mi', '127.0.0.1', '-mp', String(MEDIA_PORT)],
    30_000,
    port,
  );
  await new Promise((r) => setTimeout(r, 300));
  const relay = await startTestRelay({
    SIP_SERVER_IP: '127.0.0.1',
    SIP_TRANSFER_PORT: String(port),
    RTP_PORT_START: '46400',
    RTP_PORT_END: '46499',
    GREETING_PATH: join(dir, 'greeting.wav'),
  });
  // tshark stamps packets with the wall clock, the relay paces on the monotonic one: a wall clock stepped
  // or slewed meanwhile (seen on a fresh CI machine: 0.47 % fast) shows as a rate between the two
  const wall0 = Date.now();
  const mono0 = performance.now();
  const dial = await relay.calls.dial('0911000111');
  if (!dial.ok) throw new Error(dial.reason);
  await new Promise((r) => setTimeout(r, 5000)); // 3 s of greeting, then silence frames
  relay.calls.hangup(dial.callId);
  const wallPerMono = (Date.now() - wall0) / (performance.now() - mono0);
  // the clock thread does nothing but sleep: when it woke 10 ms late, the whole machine stalled (a
  // starved VM), and no pacing could have held
  const stalled = relay.media.scheduler.clockLateness.countOver(10) > 0;
  await new Promise((r) => setTimeout(r, 300));
  await relay.close();
  const sippCode = (await peer).code;
  await new Promise((r) => setTimeout(r, 500));
  capture.kill('SIGINT');
  await new Promise((r) => capture.on('exit', r));
  const stream = rtpStreams(pcap);
  console.log(
    `RTP stream: ${JSON.stringify(stream)}; wall ms per monotonic ms ${wallPerMono}; stalled ${stalled}`,
  );
  return { stream, wallPerMono, stalled, sippCode };
}

describe.skipIf(!hasBinary('sipp') || !hasBinary('tshark'))(
  'outgoing call: the greeting is paced at exactly 20 ms',
  () => {
    it('tshark on the capture: 0 loss, mean delta 20.0 ms, max jitter < 2 ms (measured again once if the machine stalled)', async () => {
      let m = await pacedCall();
      // a stall of the whole machine (the clock thread late), or of the event loop alone under a full test
      // run (one 100 ms stall alone lifts RFC 3550's smoothed jitter to about 5 ms): measured once more; a
      // pacing fault shows in both calls. The pacing figures under load are `npm run bench -- media`'s.
      if (m.stalled || m.stream.maxJitter >= 2) m = await pacedCall();
      const s = m.stream;
      expect(m.sippCode).toBe(0);
      expect(s.payload).toBe('g711U');
      expect(s.packets).toBeGreaterThanOrEqual(230); // ~4.7 s of 20 ms frames
      expect(s.lost).toBe(0);
      const paced = s.meanDelta / m.wallPerMono; // in the relay's clock
      expect(paced).toBeGreaterThanOrEqual(19.95);
      expect(paced).toBeLessThanOrEqual(20.05);
      expect(s.maxJitter).toBeLessThan(2);
    }, 60_000);
  },
);
