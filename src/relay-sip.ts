import { type Observable, Subject } from 'rxjs';
import type { Config } from './config/index.ts';
import type { RtpPortPool } from './io/media/rtp-port-pool.ts';
import { localAddresses } from './io/net-info.ts';
import { tlsFlavour } from './io/sip/tls.ts';
import { SipTransports } from './io/sip/transports.ts';
import { LogLimiter } from './kernel/log-limiter.ts';
import type { Logger } from './kernel/logger.ts';
import type { SipCore } from './sip/core/sip-core.ts';
import type { Address } from './sip/transport/transport.ts';

/**
 * The SIP sockets as SIP_TRANSPORTS says (UDP, TCP, TLS), with their limits, and what their failures tell
 * the operator and the registrations: `flowFailed$` names each flow that stopped answering its
 * keep-alives (a registration through it starts again).
 */
export async function openSip(
  config: Config,
  log: Logger,
): Promise<{ sockets: SipTransports; flowFailed$: Observable<{ host: string; port: number }> }> {
  const refusedLog = new LogLimiter(60_000);
  const flowFailed$ = new Subject<{ host: string; port: number }>();
  const sockets = await SipTransports.open({
    host: config.SIP_LOCAL_IP,
    port: config.SIP_LOCAL_PORT,
    transports: config.SIP_TRANSPORTS,
    ...(config.tls
      ? {
          tls: {
            port: config.SIP_TLS_PORT,
            flavour: tlsFlavour(config.tls, { servername: config.SIP_TLS_SERVERNAME }),
          },
        }
      : {}),
    limits: {
      maxConnections: config.SIP_TCP_MAX_CONNECTIONS,
      maxPerSource: config.SIP_TCP_MAX_PER_SOURCE,
      idleMs: config.SIP_TCP_IDLE_S * 1000,
      keepAliveMs: config.SIP_TCP_KEEPALIVE_S * 1000,
    },
    onError: (e) => log.warn({ err: e.message }, 'SIP socket error'),
    onRefused: (source, why) =>
      refusedLog.hit((suppressed) =>
        log.warn(
          { source, suppressed },
          why === 'total'
            ? `SIP TCP/TLS connection refused: SIP_TCP_MAX_CONNECTIONS (${config.SIP_TCP_MAX_CONNECTIONS}) open`
            : `SIP TCP/TLS connection refused: SIP_TCP_MAX_PER_SOURCE (${config.SIP_TCP_MAX_PER_SOURCE}) from ${source}`,
        ),
      ),
    onConnectFailure: (dest, e) => connectFailed(dest, e, log),
    onFlowFailure: (dest) => {
      log.warn(
        { dest: `${dest.host}:${dest.port}` },
        `SIP: the connection to ${dest.host}:${dest.port} did not answer a keep-alive within 10 s: closed`,
      );
      flowFailed$.next({ host: dest.host, port: dest.port });
    },
  });
  return { sockets, flowFailed$ };
}

/** Hands a message to the SIP core; whatever it throws is logged, never the end of the relay. */
export function receiveSafely(core: SipCore, data: Uint8Array, source: Address, log: Logger): void {
  try {
    core.receive(data, source);
  } catch (e) {
    // Defence in depth: the parser never throws on input, but one bad message must never end the relay.
    log.error(
      { err: e instanceof Error ? e.stack : String(e), source: `${source.address}:${source.port}` },
      'SIP message crashed the SIP core',
    );
  }
}

/**
 * A connection of ours could not be made: one log line that says why, in words for whoever set up the trunk
 * (a certificate that does not verify is the usual one over TLS).
 */
export function connectFailed(dest: { host: string; port: number }, e: Error, log: Logger): void {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const where = `${dest.host}:${dest.port}`;
  if (/CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ALTNAME/.test(code))
    log.warn(
      { dest: where, code, err: e.message },
      `TLS: refused ${where}: its certificate does not verify (${e.message}); check SIP_TLS_CA and SIP_TLS_SERVERNAME`,
    );
  else log.warn({ dest: where, code, err: e.message }, `SIP: cannot connect to ${where} (${e.message})`);
}

/**
 * Where RTP must never go though an SDP names it (chooseMedia refuses non-unicast on its own): a local
 * broadcast address, or the relay itself (its SIP socket would parse RTP as SIP; its RTP ports would feed
 * it its own packets).
 */
export function refuseRtpTo(
  broadcasts: ReadonlySet<string>,
  publicHost: string,
  sipPort: number,
  ports: RtpPortPool,
): (address: string, port: number) => string | undefined {
  const ours = localAddresses();
  ours.add(publicHost);
  return (address, port) => {
    if (broadcasts.has(address)) return 'is a broadcast address';
    if (ours.has(address) && (port === sipPort || ports.holds(port))) return 'is the relay itself';
    return undefined;
  };
}
