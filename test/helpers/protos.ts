import { join } from 'node:path';
import { readTarGz } from './tar.ts';
import { VECTORS_DIR } from './vectors.ts';

export interface ProtosCase {
  readonly index: number;
  /** The INVITE test message, placeholders still in. */
  readonly invite: Buffer;
  /** The teardown request template (method <Teardown-Method>). */
  readonly teardown: Buffer;
}

/** Group boundaries from protos-c07-sip.INDEX.md, for messages that name the group of a case. */
export const PROTOS_GROUPS: ReadonlyArray<readonly [number, string]> = [
  [0, 'valid'],
  [1, 'sip-method'],
  [194, 'sip-request-uri'],
  [255, 'sip-version'],
  [330, 'sip-via-host'],
  [436, 'sip-via-hostcolon'],
  [452, 'sip-via-hostport'],
  [498, 'sip-via-version'],
  [573, 'sip-via-tag'],
  [630, 'sip-from-displayname'],
  [823, 'sip-from-tag'],
  [880, 'sip-from-colon'],
  [896, 'sip-from-uri'],
  [957, 'sip-contact-displayname'],
  [1150, 'sip-contact-uri'],
  [1211, 'sip-contact-left-paranthesis'],
  [1227, 'sip-contact-right-paranthesis'],
  [1243, 'sip-to'],
  [1436, 'sip-to-left-paranthesis'],
  [1452, 'sip-to-right-paranthesis'],
  [1468, 'sip-call-id-value'],
  [1661, 'sip-call-id-at'],
  [1677, 'sip-call-id-ip'],
  [1783, 'sip-expires'],
  [1829, 'sip-max-forwards'],
  [1875, 'sip-cseq-integer'],
  [1921, 'sip-cseq-string'],
  [2114, 'sip-content-type'],
  [2361, 'sip-content-length'],
  [2407, 'sip-request-crlf'],
  [2417, 'crlf-request'],
  [2427, 'sdp-attribute-crlf'],
  [2437, 'sdp'],
];

export const groupOf = (index: number): string =>
  [...PROTOS_GROUPS].reverse().find(([start]) => index >= start)![1];

/** All 4,527 cases from the archive ("<len> <msg><len> <msg>" per file, see the INDEX). */
export function loadProtosCases(): ProtosCase[] {
  if (!VECTORS_DIR) return [];
  const files = readTarGz(join(VECTORS_DIR, 'protos-c07-sip.tar.gz'));
  const cases: ProtosCase[] = [];
  for (const [name, data] of files) {
    const m = /cases\/(\d+)$/.exec(name);
    if (!m) continue;
    const records: Buffer[] = [];
    let off = 0;
    while (off < data.length && records.length < 2) {
      const sp = data.indexOf(0x20, off);
      const len = Number(data.subarray(off, sp).toString('latin1'));
      records.push(data.subarray(sp + 1, sp + 1 + len));
      off = sp + 1 + len;
    }
    if (records.length !== 2) throw new Error(`${name}: expected 2 records, got ${records.length}`);
    cases.push({ index: Number(m[1]), invite: records[0]!, teardown: records[1]! });
  }
  return cases.sort((a, b) => a.index - b.index);
}

export interface Fill {
  readonly port: number;
  readonly id: string;
  readonly teardown?: 'CANCEL' | 'BYE';
}

/** Substitutes the placeholders (binary-safe) and recomputes <Content-Length> from the body. */
export function fillCase(template: Buffer, f: Fill): Buffer {
  let s = template.toString('latin1');
  const values: Record<string, string> = {
    '<To>': 'relay@127.0.0.1',
    '<From>': 'protos@127.0.0.1',
    '<From-Address>': '127.0.0.1',
    '<From-IP>': '127.0.0.1',
    '<Local-Port>': String(f.port),
    '<Branch-ID>': f.id,
    '<Call-ID>': `protos-${f.id}`,
    '<CSeq>': '1',
    '<Teardown-Method>': f.teardown ?? 'CANCEL',
  };
  for (const [k, v] of Object.entries(values)) s = s.split(k).join(v);
  const sep = s.search(/\r?\n\r?\n/);
  const bodyLen = sep === -1 ? 0 : Buffer.byteLength(s.slice(sep).replace(/^\r?\n\r?\n/, ''), 'latin1');
  s = s.split('<Content-Length>').join(String(bodyLen));
  return Buffer.from(s, 'latin1');
}
