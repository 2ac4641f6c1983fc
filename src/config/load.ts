import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import type { z } from 'zod';
import type { RoutesFile } from '../routing/routes-schema.ts';
import { type RoutesContext, readRoutesFile } from './routes-file.ts';
import { aiProvider, configSchema, crossChecks, type RawConfig } from './schema.ts';
import { loadTlsMaterial, type TlsMaterial } from './tls-files.ts';
import { unknownKeyWarnings } from './unknown-keys.ts';

export interface Config extends RawConfig {
  readonly aiProvider: 'openai' | 'openai-realtime' | 'echo';
  /** SIP_TLS_CERT, SIP_TLS_KEY and SIP_TLS_CA read and checked, when TLS is configured. */
  readonly tls: TlsMaterial | undefined;
  /** AI_SYSTEM_PROMPT_FILE's text when set, else AI_SYSTEM_PROMPT. */
  readonly aiSystemPrompt: string;
  /** ROUTES_FILE read and checked (prompt files read in), when set. */
  readonly routes: RoutesFile | undefined;
}

export type ConfigResult =
  | { ok: true; config: Config; warnings: string[] }
  | { ok: false; problems: string[] };

/**
 * Validates an environment map. Empty strings count as unset (`OPENAI_API_KEY=` in a .env file).
 * Each key is checked on its own, so every problem is reported at once, cross-key rules included.
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>): ConfigResult {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const bad = new Set<string>();
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    const raw = env[key];
    const given = raw !== undefined && raw.trim() !== '';
    const parsed = (schema as z.ZodType).safeParse(given ? raw : undefined);
    if (parsed.success) {
      values[key] = parsed.data;
      continue;
    }
    bad.add(key);
    for (const issue of parsed.error.issues)
      problems.push(`${key}: ${issue.message} (got ${JSON.stringify(raw)})`);
    values[key] = (schema as z.ZodType).safeParse(undefined).data;
  }
  const config = values as RawConfig;
  for (const [key, message] of crossChecks(config)) if (!bad.has(key)) problems.push(`${key}: ${message}`);
  let aiSystemPrompt = config.AI_SYSTEM_PROMPT;
  if (config.AI_SYSTEM_PROMPT_FILE) {
    try {
      aiSystemPrompt = readFileSync(config.AI_SYSTEM_PROMPT_FILE, 'utf8').trim();
      if (!aiSystemPrompt) problems.push(`AI_SYSTEM_PROMPT_FILE: ${config.AI_SYSTEM_PROMPT_FILE} is empty`);
    } catch (e) {
      problems.push(
        `AI_SYSTEM_PROMPT_FILE: cannot read ${config.AI_SYSTEM_PROMPT_FILE} (${(e as Error).message})`,
      );
    }
  }
  const wantsTls = config.SIP_TRANSPORTS.includes('tls') || config.SIP_SERVER_TRANSPORT === 'tls';
  const tls = wantsTls
    ? loadTlsMaterial({ cert: config.SIP_TLS_CERT, key: config.SIP_TLS_KEY, ca: config.SIP_TLS_CA })
    : { problems: [], warnings: [] };
  problems.push(...tls.problems);
  const routes = config.ROUTES_FILE ? readRoutesFile(config.ROUTES_FILE, routesContext(config)) : undefined;
  if (routes && !routes.ok) problems.push(...routes.problems);
  if (problems.length > 0) return { ok: false, problems };
  const warnings: string[] = [...tls.warnings];
  // each call takes an even RTP port and the odd one after it (RTCP)
  const pairs = Math.floor((config.RTP_PORT_END - config.RTP_PORT_START + 1) / 2);
  if (pairs < config.MAX_CALLS)
    warnings.push(
      `RTP_PORT_START..RTP_PORT_END (${config.RTP_PORT_START}-${config.RTP_PORT_END}) holds ${pairs} port pairs: ` +
        `only ${pairs} of MAX_CALLS=${config.MAX_CALLS} calls can have media (a call takes two ports)`,
    );
  warnings.push(...placeholderWarnings(config));
  return {
    ok: true,
    config: {
      ...config,
      aiProvider: aiProvider(config),
      aiSystemPrompt,
      tls: tls.material,
      routes: routes?.ok ? routes.file : undefined,
    },
    warnings,
  };
}

/** RFC 5737's documentation networks: the README's and compose.yaml's examples, never a real peer. */
const TEST_NET = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.\d+(\/\d+)?$/;

/** Addresses left as the examples had them: loud start-up warnings, one per key. */
function placeholderWarnings(c: RawConfig): string[] {
  const out: string[] = [];
  const check = (key: string, values: readonly string[]) => {
    const doc = values.filter((v) => TEST_NET.test(v.trim()));
    if (doc.length > 0)
      out.push(
        `${key}: ${doc.join(', ')} is a documentation address (RFC 5737 TEST-NET, as in the examples): ` +
          'no real peer has it; put your own',
      );
  };
  check('SIP_LOCAL_IP', [c.SIP_LOCAL_IP]);
  check('SIP_PUBLIC_IP', c.SIP_PUBLIC_IP ? [c.SIP_PUBLIC_IP] : []);
  check('SIP_SERVER_IP', [c.SIP_SERVER_IP]);
  check('SIP_ALLOWED_SOURCES', (c.SIP_ALLOWED_SOURCES ?? []) as readonly string[]);
  return out;
}

/** What a routes file is checked against (start-up and every reload). */
export function routesContext(c: RawConfig): RoutesContext {
  return { openAiKey: !!c.OPENAI_API_KEY, provider: aiProvider(c), callWebhookUrl: !!c.CALL_WEBHOOK_URL };
}

/**
 * The only reader of the process environment: `.env` (if present) under the real environment, which wins.
 */
export function loadConfig(
  opts: { envFile?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, string> } = {},
): ConfigResult {
  const envFile = opts.envFile ?? '.env';
  let fromFile: Record<string, string> = {};
  try {
    fromFile = parseDotenv(readFileSync(envFile));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      return { ok: false, problems: [`${envFile}: cannot read (${(e as Error).message})`] };
    }
  }
  const env = opts.env ?? process.env;
  const result = parseConfig({ ...fromFile, ...env, ...opts.overrides });
  if (!result.ok) return result;
  const known = Object.keys(configSchema.shape);
  return { ...result, warnings: [...result.warnings, ...unknownKeyWarnings(known, fromFile, env, envFile)] };
}

export function formatProblems(problems: readonly string[]): string {
  return `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
    .map((p) => `  - ${p}`)
    .join('\n')}`;
}
