import type { makeCerts } from '../test/helpers/certs.ts';

/**
 * The relay's settings for a media benchmark: ephemeral SIP and WebSocket ports, quiet, room for 2,000 calls
 * from one generator, recording into `recordingDir`, no RTP timeout; with `certs`, a TLS listener for SIP
 * (SDES-SRTP is offered over it).
 */
export function mediaRelayEnv(
  recordingDir: string,
  certs?: ReturnType<typeof makeCerts>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SIP_LOCAL_PORT: '0',
    WS_PORT: '0',
    SIP_LOG_FILE: '',
    LOG_LEVEL: 'silent',
    RTP_PORT_START: '50000',
    RTP_PORT_END: '52999',
    MAX_CALLS: '2000',
    MAX_RINGING_PER_SOURCE: '2000', // one generator sets up every call
    RECORDING_DIR: recordingDir,
    RECORDING: 'true',
    RTP_TIMEOUT_S: '0',
    ...(certs
      ? {
          SIP_TRANSPORTS: 'udp,tcp,tls',
          SIP_TLS_PORT: '0',
          SIP_TLS_CERT: certs.server.cert,
          SIP_TLS_KEY: certs.server.key,
          SIP_TCP_MAX_CONNECTIONS: '10',
        }
      : {}),
    ...extra,
  };
}

/** Node's arguments for bench/rtp-generator.ts: `calls` calls for `seconds` to `relay`, over TLS with SRTP. */
export function generatorArgs(
  relay: { sip: { port: number }; transports: { tls?: { address(): { port: number } } } },
  calls: number,
  seconds: number,
  srtp: boolean,
): string[] {
  return [
    '--import',
    'tsx',
    'bench/rtp-generator.ts',
    String(relay.sip.port),
    String(calls),
    String(seconds),
    ...(srtp ? [String(relay.transports.tls!.address().port)] : []),
  ];
}
