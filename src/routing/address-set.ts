import { BlockList, isIP, isIPv6 } from 'node:net';

/** IP addresses and CIDR blocks (validated before) as a membership test, IPv4 and IPv6. */
export function addressSet(list: readonly string[]): (address: string) => boolean {
  const set = new BlockList();
  for (const entry of list) {
    const [addr, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) set.addAddress(addr, type);
    else set.addSubnet(addr, Number(prefix), type);
  }
  return (address) => set.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}

/** An IP address or a CIDR block (address/prefix). */
export function isCidr(v: string): boolean {
  const [addr, prefix, extra] = v.split('/');
  if (extra !== undefined || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  const n = Number(prefix);
  return /^\d+$/.test(prefix) && n >= 0 && n <= (family === 4 ? 32 : 128);
}
