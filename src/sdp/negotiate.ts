import { err, ok, type Result } from '../kernel/result.ts';
import { masterKeyLength, type SrtpSuite } from '../rtp/srtp.ts';
import { isUnicast } from '../sip/message/host.ts';
import type { CodecName, Direction, MediaDescription, SessionDescription } from './types.ts';
import { STATIC_PT } from './types.ts';

export interface LocalMedia {
  /** Address for c= and o= (the RTP socket's address, or SIP_PUBLIC_IP). */
  readonly address: string;
  /** The bound RTP port. */
  readonly port: number;
  readonly sessionId: string;
  readonly sessionVersion: number;
}

export interface NegotiationOptions {
  /** Codecs we accept, in our order of preference. */
  readonly codecs: readonly CodecName[];
  /** 'offer': the first codec of the offer that we accept (RFC 3264 6.1 "SHOULD"); 'local': ours first. */
  readonly order: 'offer' | 'local';
  /**
   * Why our RTP may not go to this address:port (a subnet broadcast, the relay's own sockets), or undefined
   * when it may. Multicast, broadcast and unspecified addresses are refused whatever this says.
   */
  readonly refuseRemote?: (address: string, port: number) => string | undefined;
  /** SDES-SRTP (RFC 4568); absent: plain RTP only, as SRTP=off. */
  readonly srtp?: SrtpPolicy;
  /** We hold the call: our answer does not receive (sendrecv -> sendonly, recvonly -> inactive, 8.4). */
  readonly hold?: boolean;
}

/** What we do about SRTP on this call. */
export interface SrtpPolicy {
  /** SRTP: off (plain RTP only), offer (SRTP when the peer offers it), require (a plain offer gets 488). */
  readonly mode: 'off' | 'offer' | 'require';
  /** The signalling is encrypted (TLS): SDES keys may be sent and taken only then. */
  readonly secure: boolean;
  /** The suites we take and offer (our offers list them in this order). */
  readonly suites: readonly SrtpSuite[];
  /** A fresh master key and salt for a suite: 30 random bytes (28 for AEAD_AES_128_GCM). */
  readonly newKey: (suite: SrtpSuite) => Uint8Array;
  /** When reading an answer to our offer: the crypto attributes we offered (the answer picks one by tag). */
  readonly offered?: readonly OfferedCrypto[];
}

export interface OfferedCrypto {
  readonly tag: number;
  readonly suite: SrtpSuite;
  /** Our master key and salt (30 bytes; 28 for AEAD_AES_128_GCM). */
  readonly key: Uint8Array;
}

/** The SRTP of a call: the suite and both master keys (never logged, never put in an event). */
export interface SrtpKeys {
  readonly suite: SrtpSuite;
  readonly tag: number;
  /** Ours: what we encrypt with. */
  readonly local: Uint8Array;
  /** The peer's: what we decrypt with. */
  readonly remote: Uint8Array;
}

export interface Negotiated {
  readonly codec: CodecName;
  readonly payloadType: number;
  /** The peer's telephone-event payload type, when it offered RFC 4733 events. */
  readonly dtmfPayloadType?: number;
  /** Where to send RTP; undefined while the peer holds with c=0.0.0.0 or port 0. */
  readonly remote?: { readonly address: string; readonly port: number };
  /** Our direction in the answer. */
  readonly direction: Direction;
  /** The peer's direction in its SDP (c=0.0.0.0 with sendrecv read as sendonly): sendonly or inactive = it holds us. */
  readonly peerDirection: Direction;
  /** Index of the m= line carrying the call's audio. */
  readonly mediaIndex: number;
  /** RTP/SAVP with SDES keys; absent: plain RTP. */
  readonly srtp?: SrtpKeys;
}

export interface Answer extends Negotiated {
  readonly sdp: string;
}

/** Payload type of a codec in a media description: static number or an rtpmap with its name at 8 kHz. */
function payloadOf(m: MediaDescription, codec: CodecName): number | undefined {
  const mapped = m.rtpmap.find((r) => r.codec.toUpperCase() === codec && r.rate === 8000);
  if (mapped && m.formats.includes(String(mapped.payload))) return mapped.payload;
  const pt = STATIC_PT[codec];
  const remapped = m.rtpmap.find((r) => r.payload === pt);
  // a static payload type without rtpmap, or with a matching one
  if (m.formats.includes(String(pt)) && (!remapped || remapped.codec.toUpperCase() === codec)) return pt;
  return undefined;
}

function dtmfOf(m: MediaDescription): number | undefined {
  const te = m.rtpmap.find((r) => r.codec.toLowerCase() === 'telephone-event' && r.rate === 8000);
  return te && m.formats.includes(String(te.payload)) ? te.payload : undefined;
}

/** RFC 3264 6.1: the answer's direction for an offered one. */
const ANSWER_DIRECTION: Readonly<Record<Direction, Direction>> = {
  sendrecv: 'sendrecv',
  sendonly: 'recvonly',
  recvonly: 'sendonly',
  inactive: 'inactive',
};

/** RFC 3264 8.4: the direction that holds the stream, from the one that would not. */
export function holding(d: Direction): Direction {
  return d === 'sendrecv' ? 'sendonly' : d === 'recvonly' ? 'inactive' : d;
}

/** Picks the codec and remote address from an offer (or from an answer to our offer). */
export function chooseMedia(sdp: SessionDescription, opts: NegotiationOptions): Result<Negotiated, string> {
  let refusal: string | undefined;
  for (let i = 0; i < sdp.media.length; i++) {
    const m = sdp.media[i]!;
    if (m.type !== 'audio' || m.port === 0) continue;
    const srtp = srtpOf(m, opts.srtp);
    if (typeof srtp === 'string') {
      refusal ??= srtp;
      continue;
    }
    const candidates: Array<{ codec: CodecName; pt: number; at: number }> = [];
    for (const codec of opts.codecs) {
      const pt = payloadOf(m, codec);
      if (pt !== undefined) candidates.push({ codec, pt, at: m.formats.indexOf(String(pt)) });
    }
    if (candidates.length === 0) continue;
    if (opts.order === 'offer') candidates.sort((a, b) => a.at - b.at);
    const chosen = candidates[0]!;
    const held = !m.connection || m.connection.address === '0.0.0.0' || m.connection.address === '::';
    // SDP names where the peer wants RTP (RFC 3264 5.1), and nothing checks it is the peer: a multicast
    // group or broadcast address would have us send 50 packets a second to everyone there, another party's
    // address would make us its traffic source. Non-unicast is refused here; a third party's unicast
    // address is caught by the media start timeout (nothing heard from it).
    if (!held) {
      const address = m.connection!.address;
      const refused = isUnicast(address) ? opts.refuseRemote?.(address, m.port) : 'is not unicast';
      if (refused) return err(`media address ${address}:${m.port} ${refused}`);
    }
    // RFC 3264 8.4: c=0.0.0.0 is the RFC 2543 way to put a call on hold; treat it like sendonly
    const offered: Direction = held && m.direction === 'sendrecv' ? 'sendonly' : m.direction;
    const dtmf = dtmfOf(m);
    return ok({
      codec: chosen.codec,
      payloadType: chosen.pt,
      ...(dtmf !== undefined ? { dtmfPayloadType: dtmf } : {}),
      ...(held ? {} : { remote: { address: m.connection!.address, port: m.port } }),
      direction: opts.hold ? holding(ANSWER_DIRECTION[offered]) : ANSWER_DIRECTION[offered],
      peerDirection: offered,
      mediaIndex: i,
      ...(srtp ? { srtp } : {}),
    });
  }
  return err(refusal ?? 'no common codec (we accept PCMU and PCMA on RTP/AVP audio)');
}

/**
 * The SRTP of an audio stream: undefined for plain RTP we may take, the keys for RTP/SAVP we can do, or why
 * the stream cannot be taken. RFC 4568 5.1.2: the answerer picks one offered crypto attribute it supports
 * and answers with the same tag and its own key; RFC 4568 8.3: "SDES MUST only be used with ... a secure
 * transport" (TLS here). An answer to our offer must carry one of the tags we offered, with its suite.
 */
function srtpOf(m: MediaDescription, policy: SrtpPolicy | undefined): SrtpKeys | string | undefined {
  if (m.proto === 'RTP/AVP')
    return policy?.mode === 'require'
      ? 'SRTP is required (SRTP=require): offer RTP/SAVP with a=crypto'
      : undefined;
  if (m.proto !== 'RTP/SAVP') return `${m.proto} is not a profile we speak (RTP/AVP, RTP/SAVP with SDES)`;
  if (!policy || policy.mode === 'off') return 'SRTP is off (SRTP=off)';
  if (!policy.secure) return 'SDES keys are exchanged only over TLS';
  // the offerer lists its attributes in its order of preference: the first we take wins
  for (const c of m.crypto) {
    const suite = policy.suites.find((s) => s === c.suite);
    if (!suite || c.key?.length !== masterKeyLength(suite)) continue;
    if (!policy.offered) return { suite, tag: c.tag, local: policy.newKey(suite), remote: c.key };
    const ours = policy.offered.find((o) => o.tag === c.tag && o.suite === c.suite);
    if (ours) return { suite: ours.suite, tag: ours.tag, local: ours.key, remote: c.key };
  }
  return `no crypto suite we take (${policy.suites.join(', ')}) with an inline key of its length`;
}

/**
 * The answer to an offer (RFC 3264 6): one m= line per offered stream in the same order; the audio stream we
 * take answers with the chosen codec, telephone-event when offered and a=ptime:20; the others get port 0.
 */
export function answerOffer(
  offer: SessionDescription,
  local: LocalMedia,
  opts: NegotiationOptions,
): Result<Answer, string> {
  const chosen = chooseMedia(offer, opts);
  if (!chosen.ok) return chosen;
  const n = chosen.value;
  const ipVer = local.address.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0',
    `o=sip-relay ${local.sessionId} ${local.sessionVersion} IN ${ipVer} ${local.address}`,
    's=sip-relay',
    `c=IN ${ipVer} ${local.address}`,
    't=0 0',
  ];
  offer.media.forEach((m, i) => {
    if (i !== n.mediaIndex) {
      // "An offered stream MAY be rejected in the answer, for any reason ... by setting the port to zero"
      lines.push(`m=${m.type} 0 ${m.proto} ${m.formats.join(' ')}`);
      return;
    }
    const formats = [n.payloadType, ...(n.dtmfPayloadType !== undefined ? [n.dtmfPayloadType] : [])];
    lines.push(`m=audio ${local.port} ${n.srtp ? 'RTP/SAVP' : 'RTP/AVP'} ${formats.join(' ')}`);
    if (n.srtp) lines.push(cryptoLine(n.srtp.tag, n.srtp.suite, n.srtp.local));
    lines.push(`a=rtpmap:${n.payloadType} ${n.codec}/8000`);
    if (n.dtmfPayloadType !== undefined) {
      lines.push(`a=rtpmap:${n.dtmfPayloadType} telephone-event/8000`);
      lines.push(`a=fmtp:${n.dtmfPayloadType} ${m.fmtp.get(n.dtmfPayloadType) ?? '0-16'}`);
    }
    lines.push('a=ptime:20');
    lines.push(`a=${n.direction}`);
  });
  return ok({ ...n, sdp: `${lines.join('\r\n')}\r\n` });
}

/** a=crypto:<tag> <suite> inline:<base64 key||salt> (RFC 4568 9.1). */
const cryptoLine = (tag: number, suite: SrtpSuite, key: Uint8Array): string =>
  `a=crypto:${tag} ${suite} inline:${Buffer.from(key).toString('base64')}`;

/** The crypto attributes we offer: each suite we take, in our order, each with its own key. */
export function offerCrypto(policy: Pick<SrtpPolicy, 'suites' | 'newKey'>): OfferedCrypto[] {
  return policy.suites.map((suite, i) => ({ tag: i + 1, suite, key: policy.newKey(suite) }));
}

/** Our offer for outgoing calls: PCMU, PCMA, telephone-event 101, ptime 20; RTP/SAVP with `crypto`. */
export function createOffer(
  local: LocalMedia,
  codecs: readonly CodecName[],
  direction: Direction = 'sendrecv',
  crypto: readonly OfferedCrypto[] = [],
): string {
  const ipVer = local.address.includes(':') ? 'IP6' : 'IP4';
  const pts = codecs.map((c) => STATIC_PT[c]);
  return `${[
    'v=0',
    `o=sip-relay ${local.sessionId} ${local.sessionVersion} IN ${ipVer} ${local.address}`,
    's=sip-relay',
    `c=IN ${ipVer} ${local.address}`,
    't=0 0',
    `m=audio ${local.port} ${crypto.length > 0 ? 'RTP/SAVP' : 'RTP/AVP'} ${[...pts, 101].join(' ')}`,
    ...crypto.map((c) => cryptoLine(c.tag, c.suite, c.key)),
    ...codecs.map((c) => `a=rtpmap:${STATIC_PT[c]} ${c}/8000`),
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=ptime:20',
    `a=${direction}`,
  ].join('\r\n')}\r\n`;
}
