import { BlockList, isIPv6 } from 'node:net';
import { join } from 'node:path';
import type { Config } from './config/index.ts';
import { bracket } from './sip/message/host.ts';

export interface RelaySettings {
  /** The greeting WAV to load; undefined for GREETING_PATH=none. */
  readonly greetingPath: string | undefined;
  /** GREETING_PATH was not given: a missing default file means the built-in chime. */
  readonly greetingIsDefault: boolean;
  /** SIP_ALLOWED_SOURCES as a filter; undefined lets every source in. */
  readonly allowSource: ((address: string) => boolean) | undefined;
  /** Digest credentials for 401/407 and REGISTER, when SIP_AUTH_USER is set. */
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  /** The upstream server: where calls out and REGISTER go, and how its host is written in a URI. */
  readonly upstream: { readonly host: string; readonly port: number; readonly uriHost: string };
  /** Our From for calls out, and the address of record we register. */
  readonly from: string;
  readonly aor: string;
}

/** What the relay's parts need from the configuration, shaped once (pure: no I/O). */
export function relaySettings(config: Config): RelaySettings {
  const fromDomain = config.SIP_FROM_DOMAIN || bracket(config.SIP_SERVER_IP);
  const display = config.SIP_DISPLAY_NAME ? `"${config.SIP_DISPLAY_NAME.replace(/(["\\])/g, '\\$1')}" ` : '';
  const aor = `sip:${config.SIP_FROM_USER}@${fromDomain}`;
  return {
    greetingPath:
      config.GREETING_PATH === 'none'
        ? undefined
        : config.GREETING_PATH || join(config.OUTPUT_DIR, 'transcode', 'greeting.wav'),
    greetingIsDefault: !config.GREETING_PATH,
    allowSource: sourceFilter(config.SIP_ALLOWED_SOURCES),
    credentials: config.SIP_AUTH_USER
      ? { username: config.SIP_AUTH_USER, password: config.SIP_AUTH_PASSWORD ?? '' }
      : undefined,
    upstream: {
      host: config.SIP_SERVER_IP,
      port: config.SIP_TRANSFER_PORT,
      uriHost: `${bracket(config.SIP_SERVER_IP)}:${config.SIP_TRANSFER_PORT}`,
    },
    from: `${display}<${aor}>`,
    aor,
  };
}

/** Builds the SIP_ALLOWED_SOURCES filter (undefined = every source allowed). */
function sourceFilter(list: readonly string[] | undefined): ((address: string) => boolean) | undefined {
  if (!list || list.length === 0) return undefined;
  const allowed = new BlockList();
  for (const entry of list) {
    const [addr, prefix] = entry.split('/') as [string, string | undefined];
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (prefix === undefined) allowed.addAddress(addr, type);
    else allowed.addSubnet(addr, Number(prefix), type);
  }
  return (address) => allowed.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
}
