import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** Reads every regular file of a .tar.gz (ustar) into memory: enough for the PROTOS case archive. */
export function readTarGz(path: string): Map<string, Buffer> {
  const tar = gunzipSync(readFileSync(path));
  const files = new Map<string, Buffer>();
  let off = 0;
  while (off + 512 <= tar.length) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('latin1').replace(/\0.*$/s, '');
    const size = Number.parseInt(
      header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0',
      8,
    );
    const type = String.fromCharCode(header[156]!);
    off += 512;
    if (type === '0' || type === '\0')
      files.set(prefix ? `${prefix}/${name}` : name, tar.subarray(off, off + size));
    off += Math.ceil(size / 512) * 512;
  }
  return files;
}
