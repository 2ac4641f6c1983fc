import { createSocket, type Socket } from 'node:dgram';
import type { Relay } from '../../src/relay.ts';
import { optionsRequest } from './udp-client.ts';

/**
 * A mutation fuzzer for a running relay: real dialogs (INVITE, 200, ACK) and the requests that live in
 * them (ACK, BYE, re-INVITE with hostile SDP, INFO, REFER, OPTIONS, CANCEL, UPDATE, PRACK), sent over UDP
 * from 127.0.0.1 with real Call-IDs, tags and CSeqs, most of them mutated (bytes flipped, spans cut or
 * repeated, headers dropped or doubled, numbers at their limits, line ends broken). Meanwhile a prober
 * sends OPTIONS from another socket and times the answers: the relay must answer throughout.
 *
 * Nothing may leave 127.0.0.1: a message whose mutation names any other IPv4 address (a Contact, a
 * Record-Route, maddr, an SDP c= the relay would send RTP or requests to) is not sent. (0.0.0.0 is hold,
 * multicast is refused by the relay: both stay.)
 */
export interface FuzzOptions {
  readonly messages: number;
  readonly seed: number;
  /** Messages sent per millisecond of wall time, at most (default 2: 2,000 a second). */
  readonly perMs?: number;
}

export interface FuzzReport {
  sent: number;
  skipped: number;
  responses: number;
  probes: number;
  probesAnswered: number;
  /** Slowest OPTIONS answer while fuzzing (ms). */
  worstProbeMs: number;
}

interface Dialog {
  callId: string;
  fromTag: string;
  toTag?: string;
  cseq: number;
  inviteBranch: string;
}

/** xorshift32: a fixed seed gives the same run. */
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
  };
}

const BOUNDARY = [
  '0',
  '-1',
  '4294967295',
  '4294967296',
  '2147483648',
  '99999999999999999999999',
  '1e9',
  '',
  ' ',
  'NaN',
];
const JUNK = [
  '\0',
  '%00',
  '\r',
  '\n',
  '\r\n\r\n',
  ';',
  ',',
  '<',
  '>',
  '"',
  '\\',
  'é',
  '\u{1F4DE}',
  'a'.repeat(3000),
];
const METHODS = [
  'INVITE',
  'ACK',
  'BYE',
  'CANCEL',
  'OPTIONS',
  'INFO',
  'REFER',
  'UPDATE',
  'PRACK',
  'NOTIFY',
  'FOO',
];

function sdp(r: ReturnType<typeof rng>, port: number): string {
  const address = r.pick(['127.0.0.1', '127.0.0.1', '127.0.0.1', '0.0.0.0', '239.255.255.250']);
  const dir = r.pick(['sendrecv', 'sendrecv', 'sendonly', 'recvonly', 'inactive']);
  const mport = r.pick([port, port, 0, 65535, 1]);
  return `v=0\r\no=fuzz 1 ${r.int(100)} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 ${address}\r\nt=0 0\r\nm=audio ${mport} RTP/AVP ${r.pick(['0', '8', '0 8 101', '18', '0 101'])}\r\na=rtpmap:101 telephone-event/8000\r\na=${dir}\r\n`;
}

function mutate(r: ReturnType<typeof rng>, text: string): string {
  let t = text;
  for (let k = 1 + r.int(3); k > 0; k--) {
    const at = r.int(t.length + 1);
    const span = 1 + r.int(40);
    switch (r.int(10)) {
      case 0: // flip a byte
        t = t.slice(0, at) + String.fromCharCode(r.int(256)) + t.slice(at + 1);
        break;
      case 1: // cut a span
        t = t.slice(0, at) + t.slice(at + span);
        break;
      case 2: // repeat a span
        t = t.slice(0, at) + t.slice(at, at + span).repeat(1 + r.int(50)) + t.slice(at);
        break;
      case 3: // junk
        t = t.slice(0, at) + r.pick(JUNK) + t.slice(at);
        break;
      case 4: // a number at its limits
        t = t.replace(/\d+/g, (m) => (r.next() < 0.15 ? r.pick(BOUNDARY) : m));
        break;
      case 5: {
        // drop or double a header line
        const lines = t.split('\r\n');
        const i = 1 + r.int(Math.max(1, lines.length - 2));
        if (r.next() < 0.5) lines.splice(i, 1);
        else lines.splice(i, 0, lines[i] ?? '');
        t = lines.join('\r\n');
        break;
      }
      case 6: // bare LF line ends
        t = t.replaceAll('\r\n', '\n');
        break;
      case 7: // truncate
        t = t.slice(0, at);
        break;
      case 8: // another method in the request line or CSeq
        t = t.replace(/^[A-Z]+/, r.pick(METHODS));
        if (r.next() < 0.5) t = t.replace(/CSeq: (\d+) [A-Z]+/, `CSeq: $1 ${r.pick(METHODS)}`);
        break;
      default: // Content-Length lies
        t = t.replace(/Content-Length: \d+/, `Content-Length: ${r.pick(['0', '1', '9999', '-5', '65536'])}`);
    }
  }
  return t;
}

/** True when every IPv4 literal in the message is 127.0.0.1 or 0.0.0.0 (or multicast, which is refused). */
export function staysLocal(text: string): boolean {
  for (const m of text.matchAll(/(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/g)) {
    const ip = m[0];
    if (ip === '127.0.0.1' || ip === '0.0.0.0' || ip === '239.255.255.250') continue;
    return false;
  }
  return true;
}

export async function fuzz(relay: Relay, opts: FuzzOptions): Promise<FuzzReport> {
  const r = rng(opts.seed);
  const sock: Socket = createSocket('udp4');
  const probe: Socket = createSocket('udp4');
  await Promise.all([sock, probe].map((s) => new Promise<void>((ok) => s.bind(0, '127.0.0.1', () => ok()))));
  const me = sock.address().port;
  const target = relay.sip.port;
  const dialogs: Dialog[] = [];
  const report: FuzzReport = {
    sent: 0,
    skipped: 0,
    responses: 0,
    probes: 0,
    probesAnswered: 0,
    worstProbeMs: 0,
  };
  sock.on('message', (d) => {
    const t = d.toString('latin1');
    if (!t.startsWith('SIP/2.0 ')) return;
    report.responses++;
    // learn the relay's To tag for dialogs we started
    const callId = /^Call-ID: *(.*)$/im.exec(t)?.[1]?.trim();
    const tag = /^To:.*;tag=([^;\s]+)/im.exec(t)?.[1];
    if (/^SIP\/2\.0 2\d\d/.test(t) && callId && tag) {
      const dlg = dialogs.find((x) => x.callId === callId);
      if (dlg && !dlg.toTag) dlg.toTag = tag;
    }
  });
  const pending = new Map<string, number>();
  probe.on('message', (d) => {
    const branch = /branch=([^;\s,]+)/.exec(d.toString('latin1'))?.[1];
    const sentAt = branch === undefined ? undefined : pending.get(branch);
    if (sentAt === undefined) return;
    pending.delete(branch!);
    report.probesAnswered++;
    report.worstProbeMs = Math.max(report.worstProbeMs, performance.now() - sentAt);
  });
  const probes = setInterval(() => {
    const branch = `z9hG4bK-probe-${report.probes++}`;
    pending.set(branch, performance.now());
    probe.send(optionsRequest(probe.address().port, branch), target, '127.0.0.1');
  }, 50);

  let n = 0;
  const request = (method: string, d: Dialog | undefined, extra: string[] = [], body = '', cseq?: number) => {
    const branch = `z9hG4bK-f${n}-${r.int(1e9)}`;
    const callId = d?.callId ?? `fuzz-${opts.seed}-${n}@127.0.0.1`;
    const lines = [
      `${method} sip:relay@127.0.0.1:${target} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${me};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:fuzz@127.0.0.1>;tag=${d?.fromTag ?? `ft${n}`}`,
      `To: <sip:relay@127.0.0.1>${d?.toTag ? `;tag=${d.toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq ?? d?.cseq ?? 1} ${method}`,
      `Contact: <sip:fuzz@127.0.0.1:${me}>`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    return { text: `${lines.join('\r\n')}\r\n\r\n${body}`, branch, callId };
  };

  const started = performance.now();
  const perMs = opts.perMs ?? 2;
  for (; n < opts.messages; n++) {
    const d = dialogs.length > 0 && r.next() < 0.8 ? r.pick(dialogs) : undefined;
    const kind = d
      ? r.pick(['ACK', 'BYE', 'reINVITE', 'INFO', 'REFER', 'OPTIONS', 'CANCEL', 'UPDATE', 'PRACK'])
      : 'INVITE';
    let msg: { text: string; branch: string; callId: string };
    const port = 20000 + 2 * r.int(10000);
    if (kind === 'INVITE') {
      msg = request('INVITE', undefined, ['Content-Type: application/sdp'], sdp(r, port));
      dialogs.push({ callId: msg.callId, fromTag: `ft${n}`, cseq: 1, inviteBranch: msg.branch });
      if (dialogs.length > 60) dialogs.shift();
    } else if (kind === 'ACK') msg = request('ACK', d, [], '', 1);
    else if (kind === 'CANCEL') msg = request('CANCEL', d, [], '', 1);
    else {
      d!.cseq += r.next() < 0.9 ? 1 : -1;
      if (kind === 'reINVITE') msg = request('INVITE', d, ['Content-Type: application/sdp'], sdp(r, port));
      else if (kind === 'INFO')
        msg = request(
          'INFO',
          d,
          ['Content-Type: application/dtmf-relay'],
          `Signal=${r.pick(['1', '#', 'A', 'x'])}\r\nDuration=160\r\n`,
        );
      else if (kind === 'REFER')
        msg = request('REFER', d, [
          `Refer-To: <sip:1002@127.0.0.1:${me}>`,
          'Referred-By: <sip:fuzz@127.0.0.1>',
        ]);
      else msg = request(kind, d);
    }
    const text = r.next() < 0.6 ? mutate(r, msg.text) : msg.text;
    if (!staysLocal(text) || text.length > 65_000) {
      report.skipped++;
      continue;
    }
    sock.send(Buffer.from(text, 'latin1'), target, '127.0.0.1');
    report.sent++;
    // pace: at most perMs messages per millisecond, letting the relay's loop (and the prober) run
    if (n % 20 === 19) {
      const ahead = n / perMs - (performance.now() - started);
      await new Promise((ok) => setTimeout(ok, Math.max(0, ahead)));
    }
  }
  // tear down: BYE every dialog we know the tag of (unmutated), CANCEL the rest
  for (const d of dialogs) {
    const m = d.toTag ? request('BYE', d, [], '', d.cseq + 100) : request('CANCEL', d, [], '', 1);
    if (!d.toTag) m.text = m.text.replace(/branch=[^;\r\n]+/, `branch=${d.inviteBranch}`);
    sock.send(Buffer.from(m.text), target, '127.0.0.1');
  }
  await new Promise((ok) => setTimeout(ok, 1500));
  clearInterval(probes);
  await new Promise((ok) => setTimeout(ok, 1000)); // the last probes' answers (a probe gets 1 s)
  sock.close();
  probe.close();
  return report;
}
