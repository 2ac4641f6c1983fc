import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallEvent } from '../../src/machines/call-events.ts';
import type { Relay } from '../../src/relay.ts';
import { envelopeCorrelation, readWavFile, speechLike, wavFile } from '../helpers/audio.ts';
import { baresipConfig, baresipRecording } from '../helpers/baresip.ts';
import { hasOpenssl, makeCerts, tlsRelayEnv, tlsUpstreamEnv } from '../helpers/certs.ts';
import { listLogger } from '../helpers/list-logger.ts';
import { freeSipPort, freeUdpPort, hasBinary, run, until } from '../helpers/peers.ts';
import { startTestRelay } from '../helpers/relay.ts';

const ACCOUNTS = { relay: 'relaypw', '2001': 'bobpw' };
// Debian installs it in /usr/sbin, which a non-root PATH may lack
const KAMAILIO = existsSync('/usr/sbin/kamailio') ? '/usr/sbin/kamailio' : 'kamailio';

/**
 * kamailio with test/peers/kamailio/proxy.cfg on a free port, in the foreground (its log on stderr); with
 * `tls`, also SIP over TLS on `tls.port` with the server certificate (it does not verify the relay's).
 */
async function startKamailio(dir: string, tls?: { port: number; cert: string; key: string; ca: string }) {
  const port = await freeUdpPort();
  if (tls)
    writeFileSync(
      join(dir, 'tls.cfg'),
      [
        '[server:default]',
        'method = TLSv1.2+',
        'verify_certificate = no',
        'require_certificate = no',
        `certificate = ${tls.cert}`,
        `private_key = ${tls.key}`,
        `ca_list = ${tls.ca}`,
        '',
        '[client:default]',
        'method = TLSv1.2+',
        'verify_certificate = no',
        'require_certificate = no',
        '',
      ].join('\n'),
    );
  const users = Object.entries(ACCOUNTS)
    .map(([u, p]) => `\t$sht(users=>${u}) = "${p}";`)
    .join('\n');
  const cfg = readFileSync(resolve(import.meta.dirname, 'kamailio/proxy.cfg'), 'utf8')
    .replaceAll('__PORT__', String(port))
    .replace('__USERS__', users)
    .replace(
      '__TRANSPORTS__',
      tls
        ? `enable_tls=yes\nlisten=tls:127.0.0.1:${tls.port}\nalias="127.0.0.1:${tls.port}"`
        : 'disable_tcp=yes',
    )
    .replace(
      '__TLS_MODULE__',
      tls ? `loadmodule "tls.so"\nmodparam("tls", "config", "${join(dir, 'tls.cfg')}")` : '',
    );
  writeFileSync(join(dir, 'proxy.cfg'), cfg);
  // absolute -w/-Y/-P: kamailio changes into -w; -DD: foreground (its workers are its children)
  const proc = spawn(
    KAMAILIO,
    [
      '-f',
      join(dir, 'proxy.cfg'),
      '-DD',
      '-E',
      '-m',
      '32',
      '-M',
      '4',
      '-w',
      dir,
      '-Y',
      dir,
      '-P',
      join(dir, 'k.pid'),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.on('data', (d) => (log += d));
  // up when it answers anything (an OPTIONS to no user gets 404)
  const probe = createSocket('udp4');
  await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
  const answered = new Promise<void>((r) => probe.once('message', () => r()));
  for (let i = 0; i < 50; i++) {
    const options = [
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${probe.address().port};branch=z9hG4bKprobe${i}`,
      'From: <sip:probe@127.0.0.1>;tag=p',
      `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: probe-${i}`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 5',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    probe.send(options, port, '127.0.0.1');
    const up = await Promise.race([answered.then(() => true), new Promise((r) => setTimeout(r, 100, false))]);
    if (up) break;
  }
  probe.close();
  return {
    port,
    proc,
    /** "REQ <method> <source ip:port> <r-uri>" lines, one per request kamailio received. */
    requests: () => log.split('\n').filter((l) => l.includes('REQ ')),
    stop: () =>
      new Promise<void>((r) => {
        if (proc.exitCode !== null) return r();
        proc.once('exit', () => r());
        proc.kill('SIGTERM');
      }),
  };
}

const peersReady = hasBinary(KAMAILIO) && hasBinary('baresip');

/** A relay registered at the proxy as `relay`, greeting with dir/greeting.wav and recording to dir/relay-rec. */
const registeredRelayEnv = (dir: string, rtpStart: number): Record<string, string> => ({
  SIP_REGISTER: 'true',
  SIP_FROM_USER: 'relay',
  SIP_AUTH_USER: 'relay',
  SIP_AUTH_PASSWORD: ACCOUNTS.relay,
  SIP_REGISTER_EXPIRES: '60',
  GREETING_PATH: join(dir, 'greeting.wav'),
  RECORDING: 'true',
  RECORDING_DIR: join(dir, 'relay-rec'),
  RTP_PORT_START: String(rtpStart),
  RTP_PORT_END: String(rtpStart + 99),
});

/** baresip registered at the proxy as extension 2001 (answering by itself or ringing), until stop(). */
async function startExtension(dir: string, kamPort: number, answermode: 'auto' | 'manual') {
  mkdirSync(dir);
  writeFileSync(join(dir, 'silence.wav'), wavFile(new Int16Array(8000 * 20), 8000));
  const ua = baresipConfig(dir, await freeSipPort(), join(dir, 'silence.wav'), 'pcmu');
  writeFileSync(
    join(ua, 'accounts'),
    `<sip:2001@127.0.0.1:${kamPort}>;auth_pass=${ACCOUNTS['2001']};regint=60;answermode=${answermode};audio_codecs=pcmu\n`,
  );
  let out = '';
  const proc: ChildProcess = spawn('baresip', ['-f', ua, '-t', '20'], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => (out += d));
  const exited = new Promise((r) => proc.once('exit', r));
  await until(() => /200 OK/.test(out), 5000);
  return {
    output: () => out,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

describe.skipIf(!peersReady)('through kamailio (registrar with digest auth, record-routing proxy)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-'));
  const greeting = speechLike(8000, 3, 41);
  let kam: Awaited<ReturnType<typeof startKamailio>>;
  let relay: Relay;
  const events: CallEvent[] = [];
  const from = (port: number, method: string) =>
    kam.requests().filter((l) => l.includes(`REQ ${method} 127.0.0.1:${port} `));

  beforeAll(async () => {
    mkdirSync(join(dir, 'kam'));
    kam = await startKamailio(join(dir, 'kam'));
    writeFileSync(join(dir, 'greeting.wav'), wavFile(greeting, 8000));
    relay = await startTestRelay({
      ...registeredRelayEnv(dir, 45200),
      SIP_SERVER_IP: '127.0.0.1',
      SIP_TRANSFER_PORT: String(kam.port),
    });
    relay.calls.events$.subscribe((e) => events.push(e));
    await until(() => relay.registration!.status === 'registered', 5000);
  }, 20_000);

  afterAll(async () => {
    await relay?.close();
    await kam?.stop();
  });

  it('the relay registers with digest credentials (401, then 200)', () => {
    expect(relay.registration!.status).toBe('registered');
    expect(from(relay.sip.port, 'REGISTER').length).toBeGreaterThanOrEqual(2);
  });

  it("a call to the relay's address at the proxy reaches it; ACK and BYE follow the Record-Route; audio both ways", async () => {
    const call = join(dir, 'in');
    mkdirSync(call);
    const caller = speechLike(8000, 4, 43);
    writeFileSync(join(call, 'caller.wav'), wavFile(caller, 8000));
    const alicePort = await freeSipPort();
    const ua = baresipConfig(call, alicePort, join(call, 'caller.wav'), 'pcmu');
    const before = events.length;
    const r = await run('baresip', ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${kam.port}`, '-t', '6'], {
      cwd: call,
      timeoutMs: 20_000,
    });
    await new Promise((res) => setTimeout(res, 300));
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    const mine = events.slice(before);
    expect(mine.map((e) => e.type)).toContain('call.answered');
    expect(mine.at(-1)).toMatchObject({ type: 'call.ended', reason: 'remote-bye' });
    // the relay put the proxy's Record-Route into its 200, so the caller sent ACK and BYE through it
    const seen = kam.requests().join('\n');
    expect(from(alicePort, 'INVITE'), seen).toHaveLength(1);
    expect(from(alicePort, 'ACK'), seen).toHaveLength(1);
    expect(from(alicePort, 'BYE'), seen).toHaveLength(1);

    const rec = readdirSync(join(dir, 'relay-rec'));
    expect(rec).toHaveLength(1);
    const inbound = envelopeCorrelation(readWavFile(join(dir, 'relay-rec', rec[0]!)).samples, caller);
    expect(inbound.corr, 'relay recording vs caller').toBeGreaterThanOrEqual(0.9);
    const heard = baresipRecording(call, 'dec');
    const outbound = envelopeCorrelation(heard.samples, greeting);
    expect(outbound.corr, 'what the caller heard vs the greeting').toBeGreaterThanOrEqual(0.9);
  }, 30_000);

  it('the relay hangs up a call that came through the proxy: its BYE follows the route set to the caller', async () => {
    const call = join(dir, 'in-hangup');
    mkdirSync(call);
    writeFileSync(join(call, 'caller.wav'), wavFile(speechLike(8000, 4, 47), 8000));
    const alicePort = await freeSipPort();
    const ua = baresipConfig(call, alicePort, join(call, 'caller.wav'), 'pcmu');
    const before = events.length;
    const byesBefore = from(relay.sip.port, 'BYE').length;
    // the caller would stay 7 s; the relay hangs up after 2 s of conversation
    const caller = run('baresip', ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${kam.port}`, '-t', '7'], {
      cwd: call,
      timeoutMs: 25_000,
    });
    await until(() => events.slice(before).some((e) => e.type === 'call.answered'), 5000);
    const answered = events.slice(before).find((e) => e.type === 'call.answered');
    expect(answered).toBeDefined();
    await new Promise((r) => setTimeout(r, 2000));
    const hungUpAt = performance.now();
    expect(relay.calls.hangup(answered!.callId)).toBe(true);
    await until(() => events.at(-1)?.type === 'call.ended', 2000);
    expect(events.at(-1)).toMatchObject({
      type: 'call.ended',
      callId: answered!.callId,
      reason: 'local-hangup',
    });
    expect(performance.now() - hungUpAt, 'the caller answered the BYE (through the proxy)').toBeLessThan(
      5000,
    );
    const seen = kam.requests().join('\n');
    expect(from(relay.sip.port, 'BYE').length - byesBefore, seen).toBe(1);
    const r = await caller;
    expect(r.stdout, 'the caller saw the call closed by the far end').toMatch(/session closed/);
  }, 40_000);

  it('the relay calls a registered extension: 407, INVITE again with credentials; its BYE follows the Record-Route', async () => {
    const call = join(dir, 'out');
    const bob = await startExtension(call, kam.port, 'auto');
    try {
      expect(bob.output(), 'the extension registered').toMatch(/200 OK/);

      const before = events.length;
      const relayPort = relay.sip.port;
      const sent = (method: string) => from(relayPort, method).length;
      const already = { INVITE: sent('INVITE'), ACK: sent('ACK'), BYE: sent('BYE') };
      const dialed = await relay.calls.dial('2001');
      expect(dialed.ok).toBe(true);
      const callId = dialed.ok ? dialed.callId : '';
      await until(() => events.slice(before).some((e) => e.type === 'call.answered'), 5000);
      expect(events.slice(before).map((e) => e.type)).toContain('call.answered');
      await new Promise((r) => setTimeout(r, 3500)); // the greeting plays
      const hungUpAt = performance.now();
      expect(relay.calls.hangup(callId)).toBe(true);
      await until(() => events.at(-1)?.type === 'call.ended', 5000);
      expect(events.at(-1)).toMatchObject({ type: 'call.ended', callId, reason: 'local-hangup' });
      expect(performance.now() - hungUpAt, 'BYE answered').toBeLessThan(5000);

      // the first INVITE was challenged (407; its ACK is absorbed by the proxy's stateless layer), the
      // second carried credentials; the ACK for the 200 and the BYE (Route: the proxy) went through it
      const seen = kam.requests().join('\n');
      expect(sent('INVITE') - already.INVITE, seen).toBe(2);
      expect(sent('ACK') - already.ACK, seen).toBe(1);
      expect(sent('BYE') - already.BYE, seen).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await bob.stop();
    }
    const heard = baresipRecording(call, 'dec');
    const corr = envelopeCorrelation(heard.samples, greeting);
    expect(corr.corr, 'what the extension heard vs the greeting').toBeGreaterThanOrEqual(0.9);
  }, 40_000);

  it('the relay gives up on a ringing extension: its CANCEL follows the INVITE through the proxy, the 487 ends the call', async () => {
    const bob = await startExtension(join(dir, 'cancel'), kam.port, 'manual');
    try {
      expect(bob.output(), 'the extension registered').toMatch(/200 OK/);
      const relayPort = relay.sip.port;
      const invitesBefore = from(relayPort, 'INVITE').length;
      const acksBefore = from(relayPort, 'ACK').length;
      const before = events.length;
      const dialed = await relay.calls.dial('2001');
      const callId = dialed.ok ? dialed.callId : '';
      await until(() => events.slice(before).some((e) => e.type === 'call.ringing'), 5000);
      expect(events.slice(before).map((e) => e.type)).toContain('call.ringing');
      expect(relay.calls.hangup(callId)).toBe(true);
      await until(() => events.at(-1)?.type === 'call.ended', 3000);
      expect(events.at(-1)).toMatchObject({ type: 'call.ended', callId, reason: 'cancelled' });
      const seen = kam.requests().join('\n');
      expect(from(relayPort, 'INVITE').length - invitesBefore, seen).toBe(2); // 407, then with credentials
      // RFC 3261 9.1: the CANCEL goes where the INVITE went (the proxy), which matched and forwarded it
      expect(from(relayPort, 'CANCEL'), seen).toHaveLength(1);
      // the extension's 487 came back through the proxy; the relay's ACK for it went there too (17.1.1.3)
      expect(from(relayPort, 'ACK').length - acksBefore, seen).toBe(1);
      // baresip reports a cancelled incoming call as a session closed while it rang
      expect(bob.output(), 'the extension rang, then saw the call go').toMatch(
        /Incoming call from: +sip:relay@[^\n]*\n[^\n]*session closed/,
      );
    } finally {
      await bob.stop();
    }
  }, 30_000);
});

describe.skipIf(!peersReady || !hasOpenssl)('through kamailio over TLS (registrar and proxy)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kamailio-tls-'));
  const greeting = speechLike(8000, 3, 59);
  let kam: Awaited<ReturnType<typeof startKamailio>>;
  let relay: Relay;
  let kamTls: number;
  const events: CallEvent[] = [];
  const { log, lines } = listLogger();

  beforeAll(async () => {
    const certs = makeCerts();
    mkdirSync(join(dir, 'kam'));
    kamTls = await freeSipPort();
    kam = await startKamailio(join(dir, 'kam'), {
      port: kamTls,
      cert: certs.server.cert,
      key: certs.server.key,
      ca: certs.ca,
    });
    writeFileSync(join(dir, 'greeting.wav'), wavFile(greeting, 8000));
    relay = await startTestRelay(
      {
        ...registeredRelayEnv(dir, 45500),
        ...tlsRelayEnv(certs, 'client'),
        ...tlsUpstreamEnv(kamTls),
        SIP_TCP_KEEPALIVE_S: '1',
        SIP_REGISTER_EXPIRES: '3600', // the refresh is far off: a REGISTER within the test is the flow's
      },
      { log },
    );
    relay.calls.events$.subscribe((e) => events.push(e));
    await until(() => relay.registration!.status === 'registered', 8000);
  }, 30_000);

  afterAll(async () => {
    await relay?.close();
    await kam?.stop();
  });

  it('the relay registers over TLS (401, then 200)', () => {
    expect(relay.registration!.status).toBe('registered');
    const registers = kam.requests().filter((l) => l.includes('REQ REGISTER '));
    expect(registers.length).toBeGreaterThanOrEqual(2);
    expect(registers.every((l) => l.endsWith(' tls'))).toBe(true);
  });

  it('kamailio answers the CRLF keep-alives on our TLS registration flow (RFC 5626 4.4.1): the flow stays up', async () => {
    const tls = relay.transports.tls!;
    const before = tls.keepAlives.answered;
    await until(() => tls.keepAlives.answered >= before + 2, 5000);
    expect(tls.keepAlives.answered).toBeGreaterThanOrEqual(before + 2);
    expect(tls.keepAlives.sent - tls.keepAlives.answered).toBeLessThanOrEqual(1); // one may be on its way
    expect(relay.registration!.status).toBe('registered');
  });

  it('a caller on UDP reaches the relay through the proxy, which forwards over TLS; audio both ways', async () => {
    const call = join(dir, 'in');
    mkdirSync(call);
    const caller = speechLike(8000, 4, 61);
    writeFileSync(join(call, 'caller.wav'), wavFile(caller, 8000));
    const ua = baresipConfig(call, await freeSipPort(), join(call, 'caller.wav'), 'pcmu');
    const overTls: string[] = [];
    const sub = relay.transports.tls!.messages$.subscribe((m) =>
      overTls.push(new TextDecoder().decode(m.data).split('\r\n')[0]!),
    );
    const r = await run('baresip', ['-f', ua, '-e', `/dial sip:relay@127.0.0.1:${kam.port}`, '-t', '6'], {
      cwd: call,
      timeoutMs: 20_000,
    });
    await new Promise((res) => setTimeout(res, 300));
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    expect(events.map((e) => e.type)).toContain('call.answered');
    expect(events.at(-1)).toMatchObject({ type: 'call.ended', reason: 'remote-bye' });
    sub.unsubscribe();
    // kamailio forwarded the call to our registered ;transport=tls contact: INVITE, ACK and BYE came over TLS
    expect(
      overTls.filter((l) => /^(INVITE|ACK|BYE) sip:relay@127\.0\.0\.1:\d+;transport=tls/.test(l)),
    ).toHaveLength(3);
    const rec = readdirSync(join(dir, 'relay-rec'));
    expect(
      envelopeCorrelation(readWavFile(join(dir, 'relay-rec', rec[0]!)).samples, caller).corr,
    ).toBeGreaterThanOrEqual(0.9);
    expect(envelopeCorrelation(baresipRecording(call, 'dec').samples, greeting).corr).toBeGreaterThanOrEqual(
      0.9,
    );
  }, 30_000);

  it('a registration flow that stops answering keep-alives fails after 10 s and the relay registers again at once', async () => {
    // kamailio frozen (SIGSTOP, it and its workers): the TLS flow goes silent; thawed, it takes the new REGISTER
    const pids = [kam.proc.pid!, ...childPids(kam.proc.pid!)];
    const registers = () => kam.requests().filter((l) => l.includes('REQ REGISTER ')).length;
    await until(() => registers() >= 2, 5000); // kamailio's log of the first registration (401, 200)
    const registersBefore = registers();
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    try {
      await until(() => lines.some((l) => /did not answer a keep-alive within 10 s/.test(l.msg)), 15_000);
      expect(lines.some((l) => /did not answer a keep-alive within 10 s/.test(l.msg))).toBe(true);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    await until(() => registers() >= registersBefore + 2, 10_000);
    expect(registers()).toBeGreaterThanOrEqual(registersBefore + 2); // 401, then 200
    await until(() => relay.registration!.status === 'registered', 5000);
    // not the hour-long refresh: the new REGISTER went within seconds of the failure
    expect(lines.find((l) => /did not answer a keep-alive/.test(l.msg))?.msg).toMatch(
      new RegExp(`connection to 127\\.0\\.0\\.1:${kamTls} did not answer`),
    );
  }, 40_000);
});

/** The child processes of `pid` (kamailio's workers). */
function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}
