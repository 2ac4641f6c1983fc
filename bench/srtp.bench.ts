// SRTP: protect and unprotect rates for one 20 ms G.711 packet (12 + 160 bytes), ours (src/rtp/srtp.ts on
// node:crypto) against werift-rtp's SRTP measured in the same run, for the two suites both do:
// AES_CM_128_HMAC_SHA1_80 and AEAD_AES_128_GCM. Also what that costs a call: 50 packets a second each
// way, as % of a core.
import { performance } from 'node:perf_hooks';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtpSession,
} from 'werift-rtp';
import { SrtpContext, type SrtpSuite } from '../src/rtp/srtp.ts';

const PACKETS = Number(process.env.BENCH_SRTP_PACKETS ?? 100_000);
const ROUNDS = 5;

function packet(seq: number): Buffer {
  const p = Buffer.alloc(172, 0x55);
  p[0] = 0x80;
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE((seq * 160) >>> 0, 4);
  p.writeUInt32BE(0x11223344, 8);
  return p;
}

/** Median packets per second of `fn` over ROUNDS rounds of PACKETS calls. */
function rate(fn: (i: number) => void): number {
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < PACKETS; i++) fn(i);
    rates.push(PACKETS / ((performance.now() - t0) / 1000));
  }
  return rates.sort((a, b) => a - b)[ROUNDS >> 1]!;
}

const SUITES = [
  { suite: 'AES_CM_128_HMAC_SHA1_80', profile: ProtectionProfileAes128CmHmacSha1_80, salt: 14 },
  { suite: 'AEAD_AES_128_GCM', profile: ProtectionProfileAeadAes128Gcm, salt: 12 },
] as const satisfies readonly { suite: SrtpSuite; profile: number; salt: number }[];

function benchSuite({ suite, profile, salt: saltLength }: (typeof SUITES)[number]): void {
  const key = Buffer.alloc(16, 7);
  const salt = Buffer.alloc(saltLength, 9);
  const plain = Array.from({ length: 1024 }, (_, i) => packet(i));
  const parsed = plain.map((p) => RtpPacket.deSerialize(p));
  const theirSession = () =>
    new SrtpSession({
      keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt },
      profile,
    });

  const oursTx = new SrtpContext(suite, { key, salt });
  const theirs = theirSession();
  // the same stream protected once, for the unprotect runs (each receiver needs a fresh replay window)
  const wire = plain.map((p) => oursTx.protectRtp(p));
  // a sender's sequence numbers only go up (and wrap, counted by the rollover counter): each packet gets
  // the next one, as on a call (cycling 0..1023 instead made every packet after the first lap look late)
  const oursProtect = rate((i) => {
    const p = plain[i & 1023]!;
    p.writeUInt16BE(i & 0xffff, 2);
    oursTx.protectRtp(p);
  });
  const theirsProtect = rate((i) => {
    const p = parsed[i & 1023]!;
    p.header.sequenceNumber = i & 0xffff;
    theirs.encrypt(p.payload, p.header);
  });
  let oursRx = new SrtpContext(suite, { key, salt });
  let theirsRx = theirSession();
  const oursUnprotect = rate((i) => {
    if ((i & 1023) === 0) oursRx = new SrtpContext(suite, { key, salt });
    oursRx.unprotectRtp(wire[i & 1023]!);
  });
  const theirsUnprotect = rate((i) => {
    if ((i & 1023) === 0) theirsRx = theirSession();
    theirsRx.decrypt(wire[i & 1023]!);
  });
  const perCall = (protect: number, unprotect: number) => ((50 / protect + 50 / unprotect) * 100).toFixed(3);
  const f = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
  console.log(`\nSRTP, ${suite}, 172-byte RTP packets (packets/s, median of ${ROUNDS} x ${PACKETS})`);
  console.log('  case           ours     werift-rtp 0.8.9   ours/werift');
  console.log(
    `  protect   ${f(oursProtect)}   ${f(theirsProtect)}           ${(oursProtect / theirsProtect).toFixed(2)}`,
  );
  console.log(
    `  unprotect ${f(oursUnprotect)}   ${f(theirsUnprotect)}           ${(oursUnprotect / theirsUnprotect).toFixed(2)}`,
  );
  console.log(
    `  one call (50 packets/s each way): ours ${perCall(oursProtect, oursUnprotect)} % of a core, ` +
      `werift-rtp ${perCall(theirsProtect, theirsUnprotect)} %`,
  );
}

export async function runSrtpBench(): Promise<void> {
  for (const s of SUITES) benchSuite(s);
}
