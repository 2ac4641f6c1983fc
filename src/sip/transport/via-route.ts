import { headerLines, splitList } from '../message/headers.ts';
import { bareHost, bracket, isIPv4, isIPv6, isUnicast } from '../message/host.ts';

export { isUnicast };

import { param, withParam } from '../message/params.ts';
import type { Header } from '../message/types.ts';
import { serializeVia, type Via } from '../message/via.ts';
import { type Address, defaultPort, isReliable } from './transport.ts';

export type { Address };

/**
 * RFC 3261 18.2.1: "the server transport MUST add a received parameter" when sent-by differs from the
 * source; RFC 3581 4: with "rport" and no value, set it to the source port and add received "even if it is
 * identical to the value of the sent-by component". We always stamp received, so a forged received value
 * in the request can never steer our response elsewhere.
 */
export function stampVia(via: Via, source: Address): Via {
  let params = withParam(via.params, 'received', formatReceived(source.address));
  if (param(via.params, 'rport') === null) params = withParam(params, 'rport', String(source.port));
  return { ...via, params };
}

/** Replaces the first Via value of a request with `via` (the rest of that line and other lines unchanged). */
export function replaceTopVia<T extends { readonly headers: readonly Header[] }>(req: T, via: Via): T {
  const index = req.headers.findIndex((h) => headerLines({ headers: [h] }, 'via').length === 1);
  if (index === -1) return req;
  const line = req.headers[index]!;
  const values = splitList(line.value);
  values[0] = serializeVia(via);
  const headers = req.headers.slice();
  headers[index] = { name: line.name, value: values.join(', ') };
  return { ...req, headers };
}

/**
 * RFC 3261 18.2.2. Over TCP/TLS: "the response MUST be sent using the existing connection to the source of
 * the original request that created the transaction, if that connection is still open ... If the connection
 * is no longer open, the server SHOULD open a connection to the IP address in the received parameter, if
 * present, using the port in the sent-by value, or the default port for that transport": the flow, with
 * that address as the fallback. For unreliable unicast: "if the top Via has a received parameter, the
 * response MUST be sent to the address in the received parameter, using the port indicated in the sent-by
 * value, or using port 5060 if none is specified explicitly"; RFC 3581 5: with an rport value, to that
 * port. maddr is ignored on purpose (multicast responses would let anyone aim our replies at a group).
 * Returns undefined for an address a response must never go to (broadcast, multicast, unspecified).
 */
export function responseDestination(
  via: Via,
  broadcasts: ReadonlySet<string> = new Set(),
  source?: Address,
): { host: string; port: number; transport?: Address['transport']; flow?: number } | undefined {
  const received = param(via.params, 'received');
  const host = received ? bareHost(received) : bareHost(via.host);
  if (!isIPv4(host) && !isIPv6(host)) return undefined;
  if (!isUnicast(host) || broadcasts.has(host)) return undefined;
  if (source && isReliable(source.transport)) {
    const port = via.port ?? defaultPort(source.transport);
    return {
      host,
      port,
      transport: source.transport,
      ...(source.flow !== undefined ? { flow: source.flow } : {}),
    };
  }
  const rport = param(via.params, 'rport');
  const rp = rport ? Number(rport) : undefined;
  const port = rp !== undefined && rp > 0 ? rp : (via.port ?? 5060);
  if (port <= 0 || port > 65535) return undefined;
  return { host, port };
}

const formatReceived = bracket;

/**
 * Where a request's sender is, from its top Via as the transport stamped it (received and rport, RFC 3261
 * 18.2.1 and RFC 3581 4): the address in-dialog requests fall back to when the peer's Contact names a host
 * we cannot resolve.
 */
export function viaSource(via: Via): { host: string; port: number } {
  const received = param(via.params, 'received');
  const rport = param(via.params, 'rport');
  return { host: bareHost(received ?? via.host), port: rport ? Number(rport) : (via.port ?? 5060) };
}
