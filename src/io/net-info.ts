import { networkInterfaces } from 'node:os';

/** The directed broadcast address of every IPv4 interface (address | ~netmask): never a response target. */
export function localBroadcasts(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.family !== 'IPv4') continue;
      const a = ni.address.split('.').map(Number);
      const m = ni.netmask.split('.').map(Number);
      if (m.every((x) => x === 255)) continue;
      out.add(a.map((x, i) => (x | (~m[i]! & 0xff)) & 0xff).join('.'));
    }
  }
  return out;
}

/** Every address of this machine's interfaces (loopback included), e.g. to tell our own sockets apart. */
export function localAddresses(): Set<string> {
  const out = new Set<string>(['127.0.0.1', '::1', '0.0.0.0', '::']);
  for (const list of Object.values(networkInterfaces())) for (const ni of list ?? []) out.add(ni.address);
  return out;
}
