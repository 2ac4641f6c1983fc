import { join } from 'node:path';
import type { Config } from './config/index.ts';
import type { MediaSettings } from './io/media/media-manager.ts';
import type { ThreadPriority } from './io/media/priority.ts';
import type { CallSettings } from './machines/call-settings.ts';
import type { DialTarget } from './machines/outgoing-call.ts';
import { addressSet } from './routing/address-set.ts';
import { type RouteDefaults, RouteTable } from './routing/router.ts';
import { parseTargetPatterns, type TargetPattern } from './sip/dialog/transfer-target.ts';
import { bracket } from './sip/message/host.ts';
import { type TimerTable, timerTable } from './sip/transaction/timers.ts';
import type { TransportName } from './sip/transport/transport.ts';

export interface RelaySettings {
  /** The greeting WAV to load; undefined for GREETING_PATH=none. */
  readonly greetingPath: string | undefined;
  /** GREETING_PATH was not given: a missing default file means the built-in chime. */
  readonly greetingIsDefault: boolean;
  /** SIP_ALLOWED_SOURCES as a filter; undefined lets every source in. */
  readonly allowSource: ((address: string) => boolean) | undefined;
  /** Digest credentials for 401/407 and REGISTER, when SIP_AUTH_USER is set. */
  readonly credentials: { readonly username: string; readonly password: string } | undefined;
  /** The upstream server: where calls out and REGISTER go, over which transport, and its host in a URI. */
  readonly upstream: {
    readonly host: string;
    readonly port: number;
    readonly uriHost: string;
    readonly transport: TransportName;
  };
  /** Our From for calls out, and the address of record we register. */
  readonly from: string;
  readonly aor: string;
  /** Calls out: the upstream as the call manager dials it (the number makes the Request-URI). */
  readonly dial: Omit<DialTarget, 'uri'> & { readonly uriHost: string };
  /** RFC 3261 17 timers from SIP_T1_MS, SIP_T2_MS, SIP_T4_MS, SIP_TIMER_D_MS. */
  readonly timers: TimerTable;
  /** The calls' settings; the media address and what RTP may not go to depend on the bound sockets. */
  readonly calls: Omit<CallSettings, 'mediaAddress' | 'refuseRemote'>;
  readonly media: MediaSettings;
  /** TRANSFER_ALLOWED_TARGETS, parsed; by default the upstream server's host, any port. */
  readonly transferTargets: readonly TargetPattern[];
  /** PROCESS_NICE and REALTIME_PRIORITY (main thread and the RTP clock thread). */
  readonly priority: ThreadPriority;
}

/** What the relay's parts need from the configuration, shaped once (pure: no I/O). */
export function relaySettings(config: Config): RelaySettings {
  const fromDomain = config.SIP_FROM_DOMAIN || bracket(config.SIP_SERVER_IP);
  const display = config.SIP_DISPLAY_NAME ? `"${config.SIP_DISPLAY_NAME.replace(/(["\\])/g, '\\$1')}" ` : '';
  const aor = `sip:${config.SIP_FROM_USER}@${fromDomain}`;
  const credentials = config.SIP_AUTH_USER
    ? { username: config.SIP_AUTH_USER, password: config.SIP_AUTH_PASSWORD ?? '' }
    : undefined;
  const upstream = {
    host: config.SIP_SERVER_IP,
    port: config.SIP_TRANSFER_PORT,
    transport: config.SIP_SERVER_TRANSPORT,
    uriHost: `${bracket(config.SIP_SERVER_IP)}:${config.SIP_TRANSFER_PORT}`,
  };
  const from = `${display}<${aor}>`;
  const priority = { nice: config.PROCESS_NICE, realtime: config.REALTIME_PRIORITY };
  return {
    greetingPath:
      config.GREETING_PATH === 'none'
        ? undefined
        : config.GREETING_PATH || join(config.OUTPUT_DIR, 'transcode', 'greeting.wav'),
    greetingIsDefault: !config.GREETING_PATH,
    allowSource: sourceFilter(config.SIP_ALLOWED_SOURCES),
    credentials,
    upstream,
    from,
    aor,
    dial: {
      uriHost: upstream.uriHost,
      dest: { host: upstream.host, port: upstream.port, transport: config.SIP_SERVER_TRANSPORT },
      from,
      ...(credentials ? { credentials } : {}),
    },
    timers: timerTable({
      t1: config.SIP_T1_MS,
      t2: config.SIP_T2_MS,
      t4: config.SIP_T4_MS,
      timerD: config.SIP_TIMER_D_MS,
    }),
    calls: {
      autoAnswer: config.AUTO_ANSWER,
      ringDelayMs: config.RING_DELAY_MS,
      ringTimeoutMs: config.RING_TIMEOUT_MS,
      codecs: config.CODECS,
      codecOrder: config.CODEC_ORDER,
      contactUser: config.SIP_FROM_USER,
      srtp: config.SRTP,
      srtpSuites: config.SRTP_SUITES,
      transferTimeoutMs: config.TRANSFER_TIMEOUT_S * 1000,
      earlyMedia: config.EARLY_MEDIA,
      sessionTimers: { expires: config.SESSION_EXPIRES, minSE: config.SESSION_MIN_SE },
    },
    media: {
      recordingDir: config.RECORDING ? config.RECORDING_DIR : undefined,
      recordingStereo: config.RECORDING_STEREO,
      sendSilence: config.RTP_SEND_SILENCE,
      symmetric: config.RTP_SYMMETRIC,
      jitterMs: config.JITTER_BUFFER_MS,
      inactivityMs: config.RTP_TIMEOUT_S * 1000,
      startTimeoutMs: config.RTP_START_TIMEOUT_S * 1000,
      maxQueuedMs: config.MAX_QUEUED_AUDIO_S * 1000,
      priority,
    },
    transferTargets: transferTargets(config),
    priority,
  };
}

/** Builds the SIP_ALLOWED_SOURCES filter (undefined = every source allowed). */
function sourceFilter(list: readonly string[] | undefined): ((address: string) => boolean) | undefined {
  return !list || list.length === 0 ? undefined : addressSet(list);
}

/** The transfer allow list (validated at start-up); without one, only the upstream server's host. */
function transferTargets(config: Config): TargetPattern[] {
  const parsed = parseTargetPatterns(
    config.TRANSFER_ALLOWED_TARGETS?.length
      ? config.TRANSFER_ALLOWED_TARGETS
      : [bracket(config.SIP_SERVER_IP)],
  );
  if (!parsed.ok) throw new Error(`TRANSFER_ALLOWED_TARGETS: ${parsed.error}`); // crossChecks reported it
  return parsed.value;
}

/** The AI_* settings and AUTO_ANSWER every route starts from. */
export function routeDefaults(config: Config): RouteDefaults {
  return {
    autoAnswer: config.AUTO_ANSWER,
    agent: {
      provider: config.aiProvider,
      chatModel: config.AI_CHAT_MODEL,
      realtimeModel: config.AI_REALTIME_MODEL,
      prompt: config.aiSystemPrompt,
      voice: config.AI_VOICE,
      language: config.AI_LANGUAGE,
      greeting: config.AI_GREETING_TEXT,
      tools: config.AI_TOOLS,
      transferTarget: config.AI_TRANSFER_TARGET,
    },
  };
}

/** The routes: ROUTES_FILE's, else the one route the environment makes (RouteTable.fromEnvironment). */
export function routeTable(config: Config): RouteTable {
  const defaults = routeDefaults(config);
  if (config.routes)
    return new RouteTable(config.routes, defaults, { callWebhookUrl: config.CALL_WEBHOOK_URL });
  return RouteTable.fromEnvironment(defaults, {
    callCenter: config.CALL_CENTER,
    streamUrl: config.MEDIA_STREAM_URL,
    callWebhookUrl: config.CALL_WEBHOOK_URL,
  });
}
