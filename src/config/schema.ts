import { isIP } from 'node:net';
import { z } from 'zod';
import { isCidr } from '../routing/address-set.ts';
import { TOOL_NAMES, type ToolName } from '../routing/tool-names.ts';
import { SRTP_SUITES, type SrtpSuite } from '../rtp/srtp.ts';
import { parseTargetPatterns } from '../sip/dialog/transfer-target.ts';

/**
 * Every setting of the relay, read from the environment (and .env) in one place. The original's names and
 * defaults are kept where they can run on a fresh machine; SIP and WS bind to 127.0.0.1 unless configured
 * (the original's 192.168.1.x defaults cannot bind here). `.env.example` lists exactly these keys.
 */

const portNumber = () =>
  z.coerce
    .number({ error: 'must be a port number' })
    .int('must be an integer')
    .min(0, 'must be 0-65535')
    .max(65535, 'must be 0-65535');
const port = (def: number) => portNumber().default(def);

const ms = (def: number, min = 1) =>
  z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int('must be an integer')
    .min(min)
    .default(def);

const ip = (def: string) =>
  z
    .string()
    .trim()
    .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address')
    .default(def);

const bool = (def: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'must be true or false' })
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v))
    .default(def);

/** A comma-separated list; blanks around and between the commas are dropped. */
const list = () =>
  z
    .string()
    .trim()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    );

/** The original used Python level names; pino's are accepted too. */
const LEVELS: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
  silent: 'silent',
};

export const configSchema = z.object({
  // --- SIP (names and ports from the original) ---
  SIP_LOCAL_IP: ip('127.0.0.1'),
  SIP_LOCAL_PORT: port(5062),
  SIP_PUBLIC_IP: z
    .string()
    .trim()
    .refine((v) => isIP(v) !== 0, 'must be an IPv4 or IPv6 address')
    .optional(),
  SIP_SERVER_IP: ip('127.0.0.1'),
  SIP_TRANSFER_PORT: port(5060),
  SIP_USER_AGENT: z.string().trim().min(1).default('sip-relay/0.1'),
  SIP_T1_MS: ms(500),
  SIP_T2_MS: ms(4000),
  SIP_T4_MS: ms(5000),
  MAX_RINGING_PER_SOURCE: z.coerce.number({ error: 'must be a number' }).int().min(1).default(50),
  SIP_SOURCE_LIMIT_MB: z.coerce.number({ error: 'must be a number of MiB' }).positive().default(64),
  SIP_TIMER_D_MS: ms(32_000, 32_000),
  // --- SIP transports (RFC 3261 18: UDP, TCP; TLS on its own port) ---
  SIP_TRANSPORTS: list()
    .refine(
      (l) => l.length > 0 && l.every((t) => ['udp', 'tcp', 'tls'].includes(t.toLowerCase())),
      'must list udp, tcp and/or tls, e.g. udp,tcp',
    )
    .transform((l) => [...new Set(l.map((t) => t.toLowerCase() as 'udp' | 'tcp' | 'tls'))])
    .default(['udp', 'tcp']),
  SIP_SERVER_TRANSPORT: z.enum(['udp', 'tcp', 'tls'], { error: 'must be udp, tcp or tls' }).default('udp'),
  SIP_TCP_MAX_CONNECTIONS: z.coerce
    .number({ error: 'must be a number of connections' })
    .int()
    .min(1)
    .default(1000),
  SIP_TCP_MAX_PER_SOURCE: z.coerce
    .number({ error: 'must be a number of connections' })
    .int()
    .min(1)
    .default(100),
  SIP_TCP_IDLE_S: z.coerce.number({ error: 'must be a number of seconds' }).int().min(1).default(300),
  SIP_TCP_KEEPALIVE_S: z.coerce.number({ error: 'must be a number of seconds' }).int().min(0).default(120),
  SIP_TLS_PORT: port(5061),
  SIP_TLS_CERT: z.string().trim().optional(),
  SIP_TLS_KEY: z.string().trim().optional(),
  SIP_TLS_CA: z.string().trim().optional(),
  SIP_TLS_SERVERNAME: z.string().trim().optional(),
  SRTP: z.enum(['off', 'offer', 'require'], { error: 'must be off, offer or require' }).default('offer'),
  SRTP_SUITES: list()
    .refine(
      (l) => l.length > 0 && l.every((s) => (SRTP_SUITES as readonly string[]).includes(s)),
      `must list one or more of ${SRTP_SUITES.join(', ')}`,
    )
    .refine((l) => new Set(l).size === l.length, 'must not list a suite twice')
    .transform((l) => l as SrtpSuite[])
    .default([...SRTP_SUITES]),
  // --- calls ---
  AUTO_ANSWER: bool(true),
  RING_DELAY_MS: z.coerce.number({ error: 'must be a number of milliseconds' }).int().min(0).default(0),
  RING_TIMEOUT_MS: ms(60_000),
  MAX_CALLS: z.coerce.number({ error: 'must be a number of calls' }).int().min(1).default(100),
  SIP_ALLOWED_SOURCES: list()
    .refine(
      (list) => list.every(isCidr),
      'must be a comma-separated list of IP addresses or CIDRs (10.0.0.0/8)',
    )
    .optional(),
  CODECS: z
    .string()
    .trim()
    .transform((v) => v.split(',').map((s) => s.trim().toUpperCase()))
    .refine(
      (list) => list.length > 0 && list.every((c) => c === 'PCMU' || c === 'PCMA'),
      'must list PCMU and/or PCMA, e.g. PCMU,PCMA',
    )
    .transform((list) => list as Array<'PCMU' | 'PCMA'>)
    .default(['PCMU', 'PCMA']),
  CODEC_ORDER: z.enum(['offer', 'local'], { error: 'must be offer or local' }).default('offer'),
  SIP_FROM_USER: z.string().trim().min(1).default('relay'),
  SIP_FROM_DOMAIN: z.string().trim().optional(),
  SIP_DISPLAY_NAME: z.string().trim().optional(),
  SIP_AUTH_USER: z.string().trim().optional(),
  SIP_AUTH_PASSWORD: z.string().optional(),
  EARLY_MEDIA: bool(false),
  SESSION_EXPIRES: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(90, 'must be at least 90 (RFC 4028)')
    .max(86400)
    .default(1800),
  SESSION_MIN_SE: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(90, 'must be at least 90 (RFC 4028)')
    .max(86400)
    .default(90),
  TRANSFER_ALLOWED_TARGETS: list().optional(),
  TRANSFER_TIMEOUT_S: z.coerce
    .number({ error: 'must be a number of seconds' })
    .int()
    .min(1)
    .max(3600)
    .default(60),
  SIP_REGISTER: bool(false),
  SIP_REGISTER_EXPIRES: z.coerce.number({ error: 'must be a number of seconds' }).int().min(60).default(3600),
  CALL_TRACE_DIR: z.string().trim().optional(),
  INSPECT: bool(false),
  INSPECT_PORT: port(8383),
  // --- WebSocket ---
  WS_HOST: ip('127.0.0.1'),
  METRICS_PORT: portNumber().optional(),
  WS_PORT: port(8080),
  MEDIA_STREAM_URL: z.url({ error: 'must be a ws:// or wss:// URL' }).optional(),
  // --- routing ---
  ROUTES_FILE: z.string().trim().optional(),
  CALL_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  WEBHOOK_SECRET: z.string().trim().min(16, 'must be at least 16 characters').optional(),
  EVENTS_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  EVENTS_SPOOL_DIR: z.string().trim().min(1).optional(),
  EVENTS_SPOOL_MAX: z.coerce.number({ error: 'must be a number of events' }).int().min(10).default(10_000),
  CDR_FILE: z.string().trim().min(1).optional(),
  WS_TOKEN: z.string().trim().min(8, 'must be at least 8 characters').optional(),
  WS_ALLOW_INSECURE: bool(false),
  WS_ORIGINS: list().optional(),
  WS_MAX_CLIENTS: z.coerce.number({ error: 'must be a number' }).int().min(1).max(10_000).default(50),
  // --- RTP ---
  RTP_PORT_START: port(31000),
  RTP_PORT_END: port(31399),
  // --- logging ---
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v in LEVELS, 'must be one of trace, debug, info, warning, error, critical, silent')
    .transform((v) => LEVELS[v]!)
    .default('info'),
  SIP_LOG_FILE: z.string().trim().default('sip_server.log'),
  // --- files ---
  RECORDING_DIR: z.string().trim().min(1).default('./recording'),
  OUTPUT_DIR: z.string().trim().min(1).default('./output'),
  GREETING_PATH: z.string().trim().optional(),
  HOLD_MUSIC_PATH: z.string().trim().optional(),
  RECORDING: bool(true),
  RECORDING_STEREO: bool(false),
  // --- media ---
  RTP_SEND_SILENCE: bool(true),
  RTP_SYMMETRIC: bool(true),
  JITTER_BUFFER_MS: z.coerce
    .number({ error: 'must be a number of milliseconds' })
    .int()
    .min(20)
    .max(1000)
    .default(60),
  RTP_TIMEOUT_S: z.coerce.number({ error: 'must be a number of seconds' }).int().min(0).default(60),
  MAX_QUEUED_AUDIO_S: z.coerce.number({ error: 'must be a number of seconds' }).int().min(1).default(60),
  RTP_START_TIMEOUT_S: z.coerce.number({ error: 'must be a number of seconds' }).int().min(0).default(10),
  PROCESS_NICE: z.coerce
    .number({ error: 'must be a nice value' })
    .int('must be an integer')
    .min(-20, 'must be -20 to 19')
    .max(19, 'must be -20 to 19')
    .optional(),
  REALTIME_PRIORITY: z.coerce
    .number({ error: 'must be a real-time priority' })
    .int('must be an integer')
    .min(1, 'must be 1 to 99')
    .max(99, 'must be 1 to 99')
    .optional(),
  MAX_RECORDING_AGE_DAYS: z.coerce.number({ error: 'must be a number of days' }).min(0).default(7),
  // --- AI call center ---
  CALL_CENTER: bool(false),
  CALL_CENTER_BUFFER_SIZE: z.coerce
    .number({ error: 'must be a number of packets' })
    .int()
    .min(10)
    .default(500),
  AI_PROVIDER: z.enum(['openai', 'openai-realtime', 'echo']).optional(),
  OPENAI_API_KEY: z.string().trim().optional(),
  OPENAI_BASE_URL: z.url({ error: 'must be a URL' }).optional(),
  AI_STT_MODEL: z.string().trim().default('whisper-1'),
  AI_LANGUAGE: z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => v === 'auto' || /^[a-z]{2,3}$/.test(v), 'must be an ISO-639-1 code such as zh, or auto')
    .default('zh'),
  AI_CHAT_MODEL: z.string().trim().default('gpt-4o-mini'),
  AI_SYSTEM_PROMPT: z
    .string()
    .trim()
    .default(
      "You are a friendly phone agent. Answer in one to three short spoken sentences, in the caller's language. No lists, no markdown.",
    ),
  AI_SYSTEM_PROMPT_FILE: z.string().trim().optional(),
  AI_TTS_MODEL: z.string().trim().default('gpt-4o-mini-tts'),
  AI_VOICE: z.string().trim().default('alloy'),
  AI_SPEED: z.coerce.number({ error: 'must be a number' }).min(0.25).max(4).default(1),
  AI_REALTIME_MODEL: z.string().trim().default('gpt-realtime'),
  AI_GREETING_TEXT: z.string().trim().optional(),
  AI_ERROR_TEXT: z.string().trim().default('Sorry, I had a problem there. Could you say that again?'),
  AI_VAD: z.enum(['webrtc', 'energy'], { error: 'must be webrtc or energy' }).default('webrtc'),
  AI_END_SILENCE_MS: ms(500, 100),
  AI_MIN_SPEECH_MS: ms(200, 20),
  AI_BARGE_IN_MS: ms(60, 20),
  AI_TIMEOUT_MS: ms(15000, 100),
  AI_RESPONSE_TIMEOUT_MS: ms(10000, 100),
  AI_RETRIES: z.coerce.number({ error: 'must be a number' }).int().min(0).max(5).default(2),
  AI_TOOLS: list()
    .refine((l) => l.every((t) => t === 'none' || (TOOL_NAMES as readonly string[]).includes(t)), {
      message: `must list ${TOOL_NAMES.join(', ')}, or be none`,
    })
    .transform((l) => l.filter((t): t is ToolName => t !== 'none'))
    .default([...TOOL_NAMES]),
  AI_TRANSFER_TARGET: z.string().trim().optional(),
  AI_HISTORY_TURNS: z.coerce.number({ error: 'must be a number' }).int().min(0).default(10),
});

export type RawConfig = z.output<typeof configSchema>;

/** Rules across keys; each returns [key, message] pairs so all problems are reported together. */
export function crossChecks(c: RawConfig): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (c.RTP_PORT_START > c.RTP_PORT_END)
    problems.push(['RTP_PORT_START', 'must not be greater than RTP_PORT_END']);
  if (c.RTP_PORT_END - c.RTP_PORT_START < 1) {
    problems.push(['RTP_PORT_END', 'the RTP range needs at least one RTP/RTCP port pair']);
  }
  if (c.RTP_PORT_START === 0) problems.push(['RTP_PORT_START', 'must be a real port, not 0']);
  if (c.SIP_T2_MS < c.SIP_T1_MS) problems.push(['SIP_T2_MS', 'must not be less than SIP_T1_MS']);
  if ((c.SIP_LOCAL_IP === '0.0.0.0' || c.SIP_LOCAL_IP === '::') && !c.SIP_PUBLIC_IP) {
    problems.push([
      'SIP_PUBLIC_IP',
      `is required when SIP_LOCAL_IP=${c.SIP_LOCAL_IP} (the address to advertise)`,
    ]);
  }
  // compose.yaml's and the README's placeholder: a token anyone can read is no token
  if (c.WS_TOKEN && /change-?me/i.test(c.WS_TOKEN))
    problems.push(['WS_TOKEN', 'is the example placeholder: set a long random token of your own']);
  const loopback = c.WS_HOST === '::1' || c.WS_HOST.startsWith('127.');
  if (!loopback && !c.WS_TOKEN && !c.WS_ALLOW_INSECURE) {
    problems.push([
      'WS_TOKEN',
      `is required when WS_HOST=${c.WS_HOST} is not loopback (or set WS_ALLOW_INSECURE=true)`,
    ]);
  }
  if (c.SIP_TRANSPORTS.includes('tls')) {
    if (!c.SIP_TLS_CERT)
      problems.push(['SIP_TLS_CERT', 'is required when SIP_TRANSPORTS lists tls (a PEM file)']);
    if (!c.SIP_TLS_KEY)
      problems.push(['SIP_TLS_KEY', 'is required when SIP_TRANSPORTS lists tls (a PEM file)']);
    if (c.SIP_TLS_PORT !== 0 && c.SIP_TLS_PORT === c.SIP_LOCAL_PORT)
      problems.push(['SIP_TLS_PORT', 'must differ from SIP_LOCAL_PORT (TCP listens there)']);
  }
  if (!c.SIP_TRANSPORTS.includes(c.SIP_SERVER_TRANSPORT))
    problems.push([
      'SIP_SERVER_TRANSPORT',
      `is ${c.SIP_SERVER_TRANSPORT}, which SIP_TRANSPORTS does not list (the upstream must reach our Contact on it)`,
    ]);
  if (c.SESSION_EXPIRES < c.SESSION_MIN_SE)
    problems.push(['SESSION_EXPIRES', `must not be less than SESSION_MIN_SE (${c.SESSION_MIN_SE})`]);
  if (c.TRANSFER_ALLOWED_TARGETS) {
    const patterns = parseTargetPatterns(c.TRANSFER_ALLOWED_TARGETS);
    if (!patterns.ok) problems.push(['TRANSFER_ALLOWED_TARGETS', patterns.error]);
  }
  if (c.SIP_REGISTER && !c.SIP_AUTH_USER)
    problems.push(['SIP_AUTH_USER', 'is required when SIP_REGISTER=true']);
  const provider = aiProvider(c);
  if (c.CALL_CENTER && provider !== 'echo' && !c.OPENAI_API_KEY) {
    problems.push(['OPENAI_API_KEY', `is required when CALL_CENTER=true with AI_PROVIDER=${provider}`]);
  }
  return problems;
}

/** AI_PROVIDER, defaulting to openai when a key is set and to the offline echo provider otherwise. */
export function aiProvider(
  c: Pick<RawConfig, 'AI_PROVIDER' | 'OPENAI_API_KEY'>,
): 'openai' | 'openai-realtime' | 'echo' {
  return c.AI_PROVIDER ?? (c.OPENAI_API_KEY ? 'openai' : 'echo');
}
