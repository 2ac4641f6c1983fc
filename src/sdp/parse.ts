import { err, ok, type Result } from '../kernel/result.ts';
import type {
  Connection,
  CryptoAttribute,
  Direction,
  MediaDescription,
  RtpMap,
  SessionDescription,
} from './types.ts';

/**
 * SDP parser (RFC 4566): a line-by-line reader of what offer/answer needs, strict where a wrong guess would
 * send media to the wrong place (c=, m=), lenient on attributes it does not use. Never throws.
 */
export function parseSdp(text: string): Result<SessionDescription, string> {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines[0] !== 'v=0') return err('SDP must start with v=0');
  let origin: SessionDescription['origin'] | undefined;
  let sessionConnection: Connection | undefined;
  let sessionDirection: Direction | undefined;
  const media: Array<{
    type: string;
    port: number;
    proto: string;
    formats: string[];
    rtpmap: RtpMap[];
    fmtp: Map<number, string>;
    direction?: Direction;
    ptime?: number;
    connection?: Connection;
    crypto: CryptoAttribute[];
  }> = [];
  for (const line of lines.slice(1)) {
    if (line[1] !== '=' || !/^[a-z]$/.test(line[0]!)) return err(`malformed SDP line "${line.slice(0, 40)}"`);
    const type = line[0]!;
    const value = line.slice(2);
    const current = media[media.length - 1];
    switch (type) {
      case 'o': {
        const f = value.split(' ');
        if (f.length !== 6) return err('malformed o= line');
        origin = { username: f[0]!, sessionId: f[1]!, sessionVersion: f[2]! };
        break;
      }
      case 'c': {
        const c = parseConnection(value);
        if (!c) return err('malformed c= line');
        if (current) current.connection = c;
        else sessionConnection = c;
        break;
      }
      case 'm': {
        const f = value.split(' ');
        if (f.length < 4) return err('malformed m= line');
        const port = Number(f[1]!.split('/')[0]);
        if (!Number.isInteger(port) || port < 0 || port > 65535) return err('bad port in m= line');
        media.push({
          type: f[0]!,
          port,
          proto: f[2]!,
          formats: f.slice(3),
          rtpmap: [],
          fmtp: new Map(),
          crypto: [],
        });
        break;
      }
      case 'a': {
        // attributes we cannot read are ignored (RFC 4566 5.13: unknown attributes MUST be ignored); a
        // malformed rtpmap for a codec we do not use ("a=rtpmap:31 LPC" in RFC 4475) must not fail the call
        const a = parseAttribute(value);
        if (!a || a === 'error') break;
        if (a.kind === 'direction') {
          if (current) current.direction = a.value;
          else sessionDirection = a.value;
        } else if (current) {
          if (a.kind === 'rtpmap') current.rtpmap.push(a.value);
          else if (a.kind === 'fmtp') current.fmtp.set(a.payload, a.value);
          else if (a.kind === 'ptime') current.ptime = a.value;
          else if (a.kind === 'crypto') current.crypto.push(a.value);
        }
        break;
      }
    }
  }
  if (!origin) return err('SDP without o= line');
  if (media.length === 0) return err('SDP without m= line');
  const out: MediaDescription[] = media.map((m) => {
    const connection = m.connection ?? sessionConnection;
    return {
      type: m.type,
      port: m.port,
      proto: m.proto,
      formats: m.formats,
      rtpmap: m.rtpmap,
      fmtp: m.fmtp,
      direction: m.direction ?? sessionDirection ?? 'sendrecv',
      ...(m.ptime !== undefined ? { ptime: m.ptime } : {}),
      ...(connection ? { connection } : {}),
      crypto: m.crypto,
    };
  });
  // RFC 4566 5.7: "a session description MUST contain either at least one c= field in each media
  // description or a single c= field at the session level"
  if (out.some((m) => m.port !== 0 && !m.connection)) return err('media without a connection address (c=)');
  return ok({ origin, media: out });
}

/** c=IN IP4 <address> / c=IN IP6 <address> (a multicast "/ttl" suffix is dropped). */
function parseConnection(value: string): Connection | undefined {
  const f = value.split(' ');
  if (f.length !== 3 || f[0] !== 'IN') return undefined;
  const address = f[2]!.split('/')[0]!;
  if (f[1] === 'IP4' && /^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return { ipVer: 4, address };
  if (f[1] === 'IP6' && /^[0-9a-fA-F:.]+$/.test(address) && address.includes(':'))
    return { ipVer: 6, address };
  return undefined;
}

type Attribute =
  | { kind: 'direction'; value: Direction }
  | { kind: 'rtpmap'; value: RtpMap }
  | { kind: 'fmtp'; payload: number; value: string }
  | { kind: 'ptime'; value: number }
  | { kind: 'crypto'; value: CryptoAttribute };

function parseAttribute(value: string): Attribute | 'error' | undefined {
  if (value === 'sendrecv' || value === 'sendonly' || value === 'recvonly' || value === 'inactive') {
    return { kind: 'direction', value };
  }
  const colon = value.indexOf(':');
  if (colon === -1) return undefined;
  const name = value.slice(0, colon);
  const rest = value.slice(colon + 1);
  if (name === 'crypto') return parseCrypto(rest);
  if (name === 'rtpmap') {
    // a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]
    const m = /^(\d{1,3}) ([^/\s]+)\/(\d+)(?:\/(\d+))?$/.exec(rest.trim());
    if (!m) return 'error';
    const payload = Number(m[1]);
    if (payload > 127) return 'error';
    return {
      kind: 'rtpmap',
      value: { payload, codec: m[2]!, rate: Number(m[3]), ...(m[4] ? { channels: Number(m[4]) } : {}) },
    };
  }
  if (name === 'fmtp') {
    const m = /^(\d{1,3}) (.*)$/.exec(rest);
    return m ? { kind: 'fmtp', payload: Number(m[1]), value: m[2]!.trim() } : 'error';
  }
  if (name === 'ptime') {
    const n = Number(rest.trim());
    return Number.isFinite(n) && n > 0 ? { kind: 'ptime', value: n } : 'error';
  }
  return undefined;
}

/**
 * a=crypto:<tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 9.1). One inline key with an
 * optional lifetime is usable; an MKI, several keys or any session parameter leaves the key out.
 */
function parseCrypto(rest: string): Attribute | 'error' {
  const f = rest.trim().split(/\s+/);
  if (f.length < 3 || !/^\d{1,9}$/.test(f[0]!)) return 'error';
  const value: CryptoAttribute = { tag: Number(f[0]), suite: f[1]! };
  const params = f[2]!;
  if (f.length > 3 || params.includes(';') || !params.startsWith('inline:')) return { kind: 'crypto', value };
  const [keySalt, ...extra] = params.slice('inline:'.length).split('|');
  // extra: a lifetime ("2^31" or a number) is fine; "n:len" is an MKI, which we do not do
  if (extra.some((e) => e.includes(':')) || !/^[A-Za-z0-9+/]+={0,2}$/.test(keySalt ?? ''))
    return { kind: 'crypto', value };
  return { kind: 'crypto', value: { ...value, key: new Uint8Array(Buffer.from(keySalt!, 'base64')) } };
}
