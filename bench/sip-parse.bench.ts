import { createRequire } from 'node:module';
import { silentLogger } from '../src/kernel/logger.ts';
import { defaultPolicy } from '../src/sip/core/policy.ts';
import { SipCore } from '../src/sip/core/sip-core.ts';
import { parseMessage } from '../src/sip/message/parse.ts';
import { serialize } from '../src/sip/message/serialize.ts';
import { timerTable } from '../src/sip/transaction/timers.ts';
import { noCallTu } from '../test/helpers/no-call-tu.ts';
import { fmt, opsPerSecond } from './measure.ts';

/** The peer: the `sip` npm package (kirm/sip.js), a plain-JS SIP stack whose transport parses the same way. */
const require = createRequire(import.meta.url);
const sip = require('sip') as { parse(s: string): unknown; stringify(m: unknown): string };

const CRLF = '\r\n';
const INVITE = [
  'INVITE sip:1001@10.0.0.5:5062 SIP/2.0',
  'Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKPj7c1b9f0e6a7d4b2f8e3c1a9d',
  'Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-proxy-hop-0001;received=10.0.0.9',
  'Max-Forwards: 69',
  'From: "0903383638" <sip:0903383638@pbx.example.com>;tag=8c3a1e5d-4f2b-11ef',
  'To: <sip:1001@10.0.0.5>',
  'Contact: <sip:0903383638@10.0.0.1:5060;transport=udp>',
  'Call-ID: 7f3c2d1e-9a8b-4c7d-8e6f-5a4b3c2d1e0f@10.0.0.1',
  'CSeq: 20716 INVITE',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY',
  'Supported: replaces, timer',
  'User-Agent: Asterisk PBX 20.5.0',
  'Content-Type: application/sdp',
];
const SDP = [
  'v=0',
  'o=- 1234567890 1234567890 IN IP4 10.0.0.1',
  's=Asterisk',
  'c=IN IP4 10.0.0.1',
  't=0 0',
  'm=audio 16384 RTP/AVP 0 8 101',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'a=sendrecv',
  '',
].join(CRLF);
const invite = Buffer.from(`${INVITE.join(CRLF)}${CRLF}Content-Length: ${SDP.length}${CRLF}${CRLF}${SDP}`);
const options = Buffer.from(
  [
    'OPTIONS sip:relay@10.0.0.5:5062 SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.1:5060;rport;branch=z9hG4bKPjoptions0001',
    'Max-Forwards: 70',
    'From: <sip:pbx@10.0.0.1>;tag=opt1',
    'To: <sip:relay@10.0.0.5>',
    'Call-ID: options-keepalive-1@10.0.0.1',
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join(CRLF),
);

export async function runSipParseBench(): Promise<void> {
  console.log('SIP message parsing (messages/s, median of 5 rounds; higher is better)');
  console.log(
    `  node ${process.version}, ${invite.length}-byte INVITE with SDP, ${options.length}-byte OPTIONS`,
  );
  console.log('  case                          ours          peer (sip 0.0.6)   ours/peer');
  for (const [name, data] of [
    ['parse INVITE', invite],
    ['parse OPTIONS', options],
  ] as const) {
    const ours = opsPerSecond(() => {
      const r = parseMessage(data);
      if (!r.ok) throw new Error(r.error.reason);
    });
    // the peer's UDP transport turns the datagram into a binary string first: measured the same way
    const peer = opsPerSecond(() => sip.parse(data.toString('binary')));
    console.log(
      `  ${name.padEnd(28)}${fmt(ours).padStart(10)}${fmt(peer).padStart(19)}${(ours / peer).toFixed(2).padStart(12)}`,
    );
  }
  const parsedOurs = parseMessage(invite);
  const parsedPeer = sip.parse(invite.toString('binary'));
  if (!parsedOurs.ok) throw new Error('bench INVITE does not parse');
  const ser = opsPerSecond(() => serialize(parsedOurs.value.msg));
  const serPeer = opsPerSecond(() => sip.stringify(parsedPeer));
  console.log(
    `  ${'serialize INVITE'.padEnd(28)}${fmt(ser).padStart(10)}${fmt(serPeer).padStart(19)}${(ser / serPeer).toFixed(2).padStart(12)}`,
  );

  // The whole core path of a keepalive: parse, Via stamping, transaction, validation, 200 OK built.
  let n = 0;
  const core: SipCore = new SipCore({
    clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} },
    timers: timerTable(),
    policy: defaultPolicy('bench'),
    transport: { send: async () => {} },
    log: silentLogger,
    tu: noCallTu(() => core),
  });
  const probes = Array.from({ length: 1024 }, (_, i) =>
    Buffer.from(options.toString('latin1').replace('z9hG4bKPjoptions0001', `z9hG4bKPjopt${i}`), 'latin1'),
  );
  const rate = opsPerSecond(() => {
    core.receive(probes[n++ % probes.length]!, { address: '10.0.0.1', port: 5060 });
    if (n % probes.length === 0) core.close(); // forget transactions so each round starts new ones
  });
  console.log(`  ${'OPTIONS in -> 200 out (core)'.padEnd(28)}${fmt(rate).padStart(10)}${'-'.padStart(19)}`);
}
