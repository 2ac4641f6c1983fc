/**
 * G.711 (ITU-T G.711 1988) A-law and mu-law as lookup tables. The tables are built once from the reference
 * algorithm (Sun Microsystems' public-domain g711.c, the implementation G.191 ships): decode is a 256-entry
 * table, encode a 64 K-entry table indexed by the 16-bit sample. Measured against alawmulaw in bench/.
 */

const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const SEG_UEND = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];

/** search() of g711.c: the first segment whose end is >= v, or 8. */
function search(v: number, table: readonly number[]): number {
  for (let i = 0; i < 8; i++) if (v <= table[i]!) return i;
  return 8;
}

/** linear2alaw of the reference g711.c (16-bit input). */
function alawEncodeRef(pcm: number): number {
  let v = pcm >> 3;
  let mask: number;
  if (v >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = search(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  const aval = (seg << 4) | (seg < 2 ? (v >> 1) & 0xf : (v >> seg) & 0xf);
  return aval ^ mask;
}

/** alaw2linear of the reference g711.c. */
function alawDecodeRef(a: number): number {
  const av = a ^ 0x55;
  let t = (av & 0x0f) << 4;
  const seg = (av & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return av & 0x80 ? t : -t;
}

const BIAS = 0x84;
const CLIP = 8159;

/** linear2ulaw of the reference g711.c (16-bit input, 14-bit internally). */
function ulawEncodeRef(pcm: number): number {
  let v = pcm >> 2;
  let mask: number;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  } else mask = 0xff;
  if (v > CLIP) v = CLIP;
  v += BIAS >> 2;
  const seg = search(v, SEG_UEND);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask;
}

/** ulaw2linear of the reference g711.c. */
function ulawDecodeRef(u: number): number {
  const uv = ~u & 0xff;
  let t = ((uv & 0x0f) << 3) + BIAS;
  t <<= (uv & 0x70) >> 4;
  return uv & 0x80 ? BIAS - t : t - BIAS;
}

function tables(encode: (s: number) => number, decode: (c: number) => number) {
  const enc = new Uint8Array(65536);
  for (let i = 0; i < 65536; i++) enc[i] = encode(i < 32768 ? i : i - 65536);
  const dec = new Int16Array(256);
  for (let c = 0; c < 256; c++) dec[c] = decode(c);
  return { enc, dec };
}

const A = tables(alawEncodeRef, alawDecodeRef);
const U = tables(ulawEncodeRef, ulawDecodeRef);

export type G711 = 'PCMU' | 'PCMA';

/** Encodes 16-bit PCM samples into G.711 bytes (into `out` when given). */
export function encodeG711(
  codec: G711,
  pcm: Int16Array,
  out: Uint8Array = new Uint8Array(pcm.length),
): Uint8Array {
  const t = codec === 'PCMU' ? U.enc : A.enc;
  for (let i = 0; i < pcm.length; i++) out[i] = t[pcm[i]! & 0xffff]!;
  return out;
}

/** Decodes G.711 bytes into 16-bit PCM samples (into `out` when given). */
export function decodeG711(
  codec: G711,
  data: Uint8Array,
  out: Int16Array = new Int16Array(data.length),
): Int16Array {
  const t = codec === 'PCMU' ? U.dec : A.dec;
  for (let i = 0; i < data.length; i++) out[i] = t[data[i]!]!;
  return out;
}

/** One frame of silence (0xFF mu-law, 0xD5 A-law: both decode to zero or the smallest step). */
export const SILENCE_BYTE: Readonly<Record<G711, number>> = { PCMU: 0xff, PCMA: 0xd5 };

/** The payload type of each codec (RFC 3551 table 4). */
export const PAYLOAD_TYPE: Readonly<Record<G711, number>> = { PCMU: 0, PCMA: 8 };
export const codecOfPayloadType = (pt: number): G711 | undefined =>
  pt === 0 ? 'PCMU' : pt === 8 ? 'PCMA' : undefined;
