import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { ourSrtp, type SrtpEngine } from '../../src/rtp/srtp.ts';
import { envelopeCorrelation, readWavFile, speechLike, wavFile } from '../helpers/audio.ts';
import { baresipConfig, baresipRecording } from '../helpers/baresip.ts';
import { hasOpenssl, makeCerts, tlsRelayEnv, tlsUpstreamEnv } from '../helpers/certs.ts';
import { listLogger } from '../helpers/list-logger.ts';
import { freeSipPort, hasBinary, run, startCapture, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

const ready = hasBinary('baresip') && hasOpenssl;

const baresipPorts = freeSipPort;

describe.skipIf(!ready)('SIP over TLS with baresip (RFC 3261 26, RFC 5630)', () => {
  it('baresip calls the relay over TLS: the call works, audio both ways', async () => {
    const certs = makeCerts();
    const dir = mkdtempSync(join(tmpdir(), 'baresip-tls-in-'));
    const caller = speechLike(8000, 4, 31);
    const greeting = speechLike(8000, 3, 37);
    writeFileSync(join(dir, 'caller.wav'), wavFile(caller, 8000));
    writeFileSync(join(dir, 'greeting.wav'), wavFile(greeting, 8000));
    const relay = await startTestRelay({
      ...tlsRelayEnv(certs),
      GREETING_PATH: join(dir, 'greeting.wav'),
      RECORDING: 'true',
      RECORDING_DIR: join(dir, 'relay-rec'),
      RTP_PORT_START: '45100',
      RTP_PORT_END: '45199',
    });
    const events: CallEvent[] = [];
    relay.calls.events$.subscribe((e) => events.push(e));
    let tlsConnections = 0;
    const probe = setInterval(() => {
      tlsConnections = Math.max(tlsConnections, relay.transports.tls!.connections);
    }, 20);
    try {
      const ua = baresipConfig(dir, await baresipPorts(), join(dir, 'caller.wav'), 'pcmu', {
        transport: 'tls',
        tls: { bundle: certs.client.bundle, ca: certs.ca },
      });
      const tlsPort = relay.transports.tls!.address().port;
      const r = await run('baresip', ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${tlsPort}`, '-t', '7'], {
        cwd: dir,
        timeoutMs: 20_000,
      });
      await new Promise((res) => setTimeout(res, 300));
      expect(r.code, r.stdout.slice(-2000)).toBe(0);
      expect(r.stdout).toMatch(/Call established: sip:relay@127\.0\.0\.1:\d+;transport=tls/);
    } finally {
      clearInterval(probe);
      await relay.close();
    }
    expect(tlsConnections).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['call.incoming', 'call.media', 'call.answered', 'call.ended']);
    const recFiles = readdirSync(join(dir, 'relay-rec'));
    const recorded = readWavFile(join(dir, 'relay-rec', recFiles[0]!));
    expect(envelopeCorrelation(recorded.samples, caller).corr).toBeGreaterThanOrEqual(0.9);
    expect(envelopeCorrelation(baresipRecording(dir, 'dec').samples, greeting).corr).toBeGreaterThanOrEqual(
      0.9,
    );
  }, 40_000);

  // which certificate baresip shows, what SIP_TLS_SERVERNAME says, and what the relay must conclude
  const cases = [
    { cert: 'server', servername: undefined, refused: undefined },
    { cert: 'named', servername: 'sip.trunk.test', refused: undefined },
    { cert: 'named', servername: undefined, refused: /Hostname\/IP does not match certificate's altnames/ },
    {
      cert: 'rogue',
      servername: undefined,
      refused: /certificate does not verify \(self[- ]signed certificate\)/,
    },
  ] as const;
  for (const { cert, servername, refused } of cases) {
    const name = !refused
      ? `the relay calls baresip over TLS and verifies its ${cert === 'named' ? 'named certificate with SIP_TLS_SERVERNAME' : 'IP certificate'} against SIP_TLS_CA`
      : cert === 'named'
        ? 'a certificate for a name is refused for the bare IP when SIP_TLS_SERVERNAME is unset'
        : 'a peer whose certificate does not verify is refused, with a log line that says so';
    it(name, async () => {
      const certs = makeCerts();
      const dir = mkdtempSync(join(tmpdir(), `baresip-tls-out-${cert}-`));
      writeFileSync(join(dir, 'callee.wav'), wavFile(speechLike(8000, 6, 41), 8000));
      const port = await baresipPorts();
      const ua = baresipConfig(dir, port, join(dir, 'callee.wav'), 'pcmu', {
        transport: 'tls',
        tls: { bundle: certs[cert].bundle, ca: certs.ca },
        answermode: 'auto',
      });
      const done = new AbortController();
      const callee = run('baresip', ['-f', ua, '-t', '8'], {
        cwd: dir,
        timeoutMs: 20_000,
        signal: done.signal,
      });
      await new Promise((res) => setTimeout(res, 700));
      const { log, lines } = listLogger();
      const relay = await startTestRelay(
        {
          ...tlsRelayEnv(certs, 'client'),
          ...tlsUpstreamEnv(port + 1),
          ...(servername ? { SIP_TLS_SERVERNAME: servername } : {}),
          SIP_FROM_USER: 'relay',
          RTP_PORT_START: '45200',
          RTP_PORT_END: '45299',
        },
        { log },
      );
      const events: CallEvent[] = [];
      relay.calls.events$.subscribe((e) => events.push(e));
      try {
        const dial = await relay.calls.dial('alice');
        expect(dial.ok).toBe(true);
        if (!refused) {
          await until(() => events.some((e) => e.type === 'call.answered'), 5000);
          expect(events.map((e) => e.type)).toContain('call.answered');
          if (dial.ok) relay.calls.hangup(dial.callId);
          await until(() => events.some((e) => e.type === 'call.ended'), 5000);
          expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'local-hangup' });
        } else {
          await until(() => events.some((e) => e.type === 'call.failed'), 8000);
          expect(events.find((e) => e.type === 'call.failed')).toMatchObject({ status: 503 });
          const line = lines.find((l) => l.msg.startsWith('TLS: refused'));
          expect(line?.msg).toMatch(refused);
        }
      } finally {
        await relay.close();
        done.abort();
        await callee;
      }
    }, 40_000);
  }
});

/** Bits of entropy per byte over the payloads (12-byte RTP header skipped): ~8 for ciphertext. */
function entropy(payloads: Buffer[]): number {
  const counts = new Array<number>(256).fill(0);
  let n = 0;
  for (const p of payloads)
    for (const b of p.subarray(12)) {
      counts[b]!++;
      n++;
    }
  return -counts.filter((c) => c > 0).reduce((h, c) => h + (c / n) * Math.log2(c / n), 0);
}

describe.skipIf(!ready || !hasBinary('tshark'))(
  'SDES-SRTP with baresip over TLS (RFC 3711, RFC 4568)',
  () => {
    it('baresip with SRTP mandatory calls the relay: SRTP on both sides, audio right both ways, not plain G.711 on the wire', async () => {
      const certs = makeCerts();
      const dir = mkdtempSync(join(tmpdir(), 'baresip-srtp-'));
      const caller = speechLike(8000, 4, 43);
      const greeting = speechLike(8000, 3, 47);
      writeFileSync(join(dir, 'caller.wav'), wavFile(caller, 8000));
      writeFileSync(join(dir, 'greeting.wav'), wavFile(greeting, 8000));
      const pcap = join(dir, 'rtp.pcapng');
      const capture = await startCapture('udp portrange 45300-45399', pcap);
      const relay = await startTestRelay({
        SIP_TRANSPORTS: 'udp,tcp,tls',
        SIP_TLS_PORT: '0',
        SIP_TLS_CERT: certs.server.cert,
        SIP_TLS_KEY: certs.server.key,
        SRTP: 'require',
        GREETING_PATH: join(dir, 'greeting.wav'),
        RECORDING: 'true',
        RECORDING_DIR: join(dir, 'relay-rec'),
        RTP_PORT_START: '45300',
        RTP_PORT_END: '45399',
      });
      const events: CallEvent[] = [];
      relay.calls.events$.subscribe((e) => events.push(e));
      let r: Awaited<ReturnType<typeof run>>;
      try {
        const ua = baresipConfig(dir, await baresipPorts(), join(dir, 'caller.wav'), 'pcmu', {
          transport: 'tls',
          tls: { bundle: certs.client.bundle, ca: certs.ca },
          mediaenc: 'srtp-mand',
        });
        r = await run(
          'baresip',
          ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${relay.transports.tls!.address().port}`, '-t', '7'],
          {
            cwd: dir,
            timeoutMs: 20_000,
          },
        );
        await new Promise((res) => setTimeout(res, 300));
      } finally {
        await relay.close();
        await new Promise((res) => setTimeout(res, 500));
        capture.kill('SIGINT');
        await new Promise((res) => capture.on('exit', res));
      }
      expect(r.code, r.stdout.slice(-2000)).toBe(0);
      expect(r.stdout).toMatch(/SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/);
      expect(events.find((e) => e.type === 'call.media')).toMatchObject({ srtp: 'AES_CM_128_HMAC_SHA1_80' });
      // audio right both ways: what the relay recorded is what baresip sent, baresip heard the greeting
      const recorded = readWavFile(join(dir, 'relay-rec', readdirSync(join(dir, 'relay-rec'))[0]!));
      expect(envelopeCorrelation(recorded.samples, caller).corr).toBeGreaterThanOrEqual(0.9);
      expect(envelopeCorrelation(baresipRecording(dir, 'dec').samples, greeting).corr).toBeGreaterThanOrEqual(
        0.9,
      );
      // on the wire: RTP headers in clear, payloads of 160 + a 10-byte tag, with the entropy of ciphertext
      const fields = run('tshark', ['-r', pcap, '-T', 'fields', '-e', 'udp.payload'], {
        cwd: dir,
        timeoutMs: 20_000,
      });
      const payloads = (await fields).stdout
        .split('\n')
        .filter((l) => l.length > 0)
        .map((h) => Buffer.from(h.replace(/:/g, ''), 'hex'))
        .filter((b) => b.length >= 12 && (b[0]! & 0xc0) === 0x80 && (b[1]! & 0x7f) < 64);
      expect(payloads.length).toBeGreaterThan(300);
      const audio = payloads.filter((b) => (b[1]! & 0x7f) === 0);
      expect(new Set(audio.map((b) => b.length))).toEqual(new Set([12 + 160 + 10]));
      const bits = entropy(audio);
      console.log(`SRTP on the wire: ${audio.length} audio packets, ${bits.toFixed(2)} bits/byte`);
      expect(bits).toBeGreaterThan(7.9);
    }, 60_000);
  },
);

describe.skipIf(!ready)('SRTP on a call out over TLS', () => {
  // SRTP_SUITES: our offer lists these; baresip takes the first it does (AES-CM, or RFC 7714's GCM alone)
  for (const [suites, suite, rtpBase] of [
    [undefined, 'AES_CM_128_HMAC_SHA1_80', 45400],
    ['AEAD_AES_128_GCM', 'AEAD_AES_128_GCM', 45500],
  ] as const)
    it(`the relay calls baresip (SRTP mandatory) over TLS offering ${suites ?? 'every suite'}: ${suite} agreed, RTP decrypts both ways`, async () => {
      const certs = makeCerts();
      const dir = mkdtempSync(join(tmpdir(), 'baresip-srtp-out-'));
      writeFileSync(join(dir, 'callee.wav'), wavFile(speechLike(8000, 6, 53), 8000));
      const port = await baresipPorts();
      const ua = baresipConfig(dir, port, join(dir, 'callee.wav'), 'pcmu', {
        transport: 'tls',
        tls: { bundle: certs.server.bundle, ca: certs.ca },
        answermode: 'auto',
        mediaenc: 'srtp-mand',
      });
      const done = new AbortController();
      const callee = run('baresip', ['-f', ua, '-t', '8'], {
        cwd: dir,
        timeoutMs: 20_000,
        signal: done.signal,
      });
      await new Promise((res) => setTimeout(res, 700));
      // the relay's SRTP engine, counted: the media sessions get it through RelayDeps (the bench's seam)
      const used = { sealed: 0, opened: 0 };
      const counted: SrtpEngine = (suite, master) => {
        const c = ourSrtp(suite, master);
        return {
          overhead: c.overhead,
          protectRtp: (p) => c.protectRtp(p),
          protectRtpInPlace: (buf, length) => {
            used.sealed++;
            return c.protectRtpInPlace(buf, length);
          },
          unprotectRtpInPlace: (buf) => {
            used.opened++;
            return c.unprotectRtpInPlace(buf);
          },
          protectRtcp: (p) => c.protectRtcp(p),
          unprotectRtcp: (p) => c.unprotectRtcp(p),
        };
      };
      const relay = await startTestRelay(
        {
          ...tlsRelayEnv(certs, 'client'),
          ...tlsUpstreamEnv(port + 1),
          RTP_PORT_START: String(rtpBase),
          RTP_PORT_END: String(rtpBase + 99),
          ...(suites ? { SRTP_SUITES: suites } : {}),
        },
        { srtpEngine: counted },
      );
      const events: CallEvent[] = [];
      relay.calls.events$.subscribe((e) => events.push(e));
      try {
        const dial = await relay.calls.dial('alice');
        await until(() => events.some((e) => e.type === 'call.answered'), 5000);
        expect(events.find((e) => e.type === 'call.media')).toMatchObject({ srtp: suite });
        await new Promise((res) => setTimeout(res, 1000));
        // RTP flows both ways through SRTP: the media session decrypted packets from baresip
        const session = dial.ok ? relay.media.session(dial.callId) : undefined;
        expect(session?.report().received).toBeGreaterThan(20);
        expect(used.opened).toBeGreaterThanOrEqual(session!.report().received);
        expect(used.sealed).toBeGreaterThan(20);
        if (dial.ok) relay.calls.hangup(dial.callId);
        await until(() => events.some((e) => e.type === 'call.ended'), 5000);
      } finally {
        await relay.close();
        done.abort();
        const r = await callee;
        expect(r.stdout).toContain(`SRTP is Enabled (cryptosuite=${suite})`);
        // and baresip took ours: its SRTP drops a packet that does not authenticate before RTP sees it
        expect(r.stdout).toContain("incoming rtp for 'audio' established");
      }
    }, 40_000);
});
