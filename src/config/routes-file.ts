import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { issueLines, type RoutesFile, routesFileSchema } from '../routing/routes-schema.ts';

/** What the routes file is checked against besides its own schema. */
export interface RoutesContext {
  /** OPENAI_API_KEY is set (agents other than echo need it). */
  readonly openAiKey: boolean;
  /** The environment's AI_PROVIDER (an agent without `provider` uses it). */
  readonly provider: 'openai' | 'openai-realtime' | 'echo';
  /** CALL_WEBHOOK_URL is set (a webhook route without a url asks it). */
  readonly callWebhookUrl: boolean;
}

export type RoutesFileResult = { ok: true; file: RoutesFile } | { ok: false; problems: string[] };

/**
 * The largest routes file read, and the most YAML aliases (`*name`) in it: a 5 MB file blocked the relay
 * 12 s, 50 MB exhausted its heap, and 50,000 aliases took 75 s. A file over either is refused (at start-up
 * with the other problems; on reload with a log line, the old routes staying). Large number plans belong
 * in a call webhook.
 */
export const ROUTES_FILE_MAX_BYTES = 1024 * 1024;
export const ROUTES_FILE_MAX_ALIASES = 100;
/** How long a reload's parse may take (in its worker thread) before it is given up. */
const PARSE_TIMEOUT_MS = 10_000;

/** The options the YAML parser gets, at start-up and in the reload's worker alike. */
const YAML_OPTIONS = { prettyErrors: true, uniqueKeys: true, maxAliasCount: ROUTES_FILE_MAX_ALIASES };

/** The file's text, or why it is not read: too large, unreadable, or too many aliases. */
function routesText(path: string): { ok: true; text: string } | { ok: false; problems: string[] } {
  const where = (p: string) => `ROUTES_FILE ${path}: ${p}`;
  try {
    const size = statSync(path).size; // through a symlink: the file it names
    if (size > ROUTES_FILE_MAX_BYTES)
      return { ok: false, problems: [where(`is ${size} bytes; at most ${ROUTES_FILE_MAX_BYTES} are read`)] };
    const text = readFileSync(path, 'utf8');
    // an alias is `*name` where a value starts (a `*` inside a quoted pattern is text)
    const aliases = text.match(/(?:^|[\s,[{:-])\*[^\s,[\]{}"']/g)?.length ?? 0;
    if (aliases > ROUTES_FILE_MAX_ALIASES)
      return {
        ok: false,
        problems: [where(`has ${aliases} YAML aliases; at most ${ROUTES_FILE_MAX_ALIASES} are taken`)],
      };
    return { ok: true, text };
  } catch (e) {
    return { ok: false, problems: [where(`cannot read (${(e as Error).message})`)] };
  }
}

const notYaml = (path: string, message: string) => ({
  ok: false as const,
  problems: [`ROUTES_FILE ${path}: not YAML or JSON (${message.split('\n')[0]})`],
});

/**
 * Reads ROUTES_FILE (YAML, or JSON, which YAML 1.2 reads too) and checks all of it: its size and aliases,
 * the schema, prompt files (read now, relative to the routes file, so a reload that cannot read one keeps
 * the old table), and what the rest of the configuration must provide. Every problem is named with where
 * it is. Synchronous: for start-up, before anything else runs.
 */
export function readRoutesFile(path: string, ctx: RoutesContext): RoutesFileResult {
  const text = routesText(path);
  if (!text.ok) return text;
  let raw: unknown;
  try {
    raw = parseYaml(text.text, YAML_OPTIONS);
  } catch (e) {
    return notYaml(path, e instanceof YAMLParseError ? e.message : (e as Error).message);
  }
  return checkRoutes(path, raw, ctx);
}

/**
 * The same for a reload while calls run: the YAML is parsed in a worker thread (a file at the size cap
 * takes about a second to parse, which must not stall the event loop that paces RTP); the schema and the
 * rest are checked here.
 */
export async function readRoutesFileOffLoop(path: string, ctx: RoutesContext): Promise<RoutesFileResult> {
  const text = routesText(path);
  if (!text.ok) return text;
  const parsed = await parseInWorker(text.text);
  if (!parsed.ok) return notYaml(path, parsed.message);
  return checkRoutes(path, parsed.value, ctx);
}

const yamlPath = createRequire(import.meta.url).resolve('yaml');

/** YAML.parse in a worker thread of its own (ended after), with a timeout. */
function parseInWorker(text: string): Promise<{ ok: true; value: unknown } | { ok: false; message: string }> {
  return new Promise((done) => {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const YAML = require(workerData.yamlPath);
       try { parentPort.postMessage({ ok: true, value: YAML.parse(workerData.text, workerData.options) }); }
       catch (e) { parentPort.postMessage({ ok: false, message: String(e && e.message) }); }`,
      {
        eval: true,
        workerData: { text, yamlPath, options: YAML_OPTIONS },
        resourceLimits: { maxOldGenerationSizeMb: 256 },
      },
    );
    let settled = false;
    const finish = (r: { ok: true; value: unknown } | { ok: false; message: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      done(r);
    };
    const timer = setTimeout(
      () => finish({ ok: false, message: `parsing took over ${PARSE_TIMEOUT_MS} ms` }),
      PARSE_TIMEOUT_MS,
    );
    worker.once('message', finish);
    worker.once('error', (e) => finish({ ok: false, message: e.message }));
    worker.once('exit', (code) => finish({ ok: false, message: `the parser stopped (exit ${code})` }));
  });
}

/** The schema, prompt files and the configuration's needs, on a parsed file. */
function checkRoutes(path: string, raw: unknown, ctx: RoutesContext): RoutesFileResult {
  const where = (p: string) => `ROUTES_FILE ${path}: ${p}`;
  const parsed = routesFileSchema.safeParse(raw ?? {});
  if (!parsed.success) return { ok: false, problems: issueLines(parsed.error).map(where) };
  const file = parsed.data;
  const problems: string[] = [];
  const base = dirname(resolve(path));
  const readPrompt = (
    agent: { prompt?: string | undefined; promptFile?: string | undefined },
    at: string,
  ) => {
    if (!agent.promptFile) return;
    if (agent.prompt) {
      problems.push(where(`${at}: give prompt or promptFile, not both`));
      return;
    }
    try {
      const prompt = readFileSync(resolve(base, agent.promptFile), 'utf8').trim();
      if (!prompt) problems.push(where(`${at}.promptFile: ${agent.promptFile} is empty`));
      agent.prompt = prompt;
      delete agent.promptFile;
    } catch (e) {
      problems.push(where(`${at}.promptFile: cannot read ${agent.promptFile} (${(e as Error).message})`));
    }
  };
  const needsKey = (agent: { provider?: string | undefined }, at: string) => {
    const provider = agent.provider ?? ctx.provider;
    if (provider !== 'echo' && !ctx.openAiKey)
      problems.push(where(`${at}: provider ${provider} needs OPENAI_API_KEY`));
  };
  file.routes.forEach((r, i) => {
    const at = `routes[${i}]`;
    if (r.agent) {
      readPrompt(r.agent, `${at}.agent`);
      needsKey(r.agent, `${at}.agent`);
    }
    if (r.webhook) {
      if (!r.webhook.url && !ctx.callWebhookUrl)
        problems.push(where(`${at}.webhook.url: is required (or set CALL_WEBHOOK_URL)`));
      const fallback = r.webhook.fallback.agent;
      if (fallback) {
        readPrompt(fallback, `${at}.webhook.fallback.agent`);
        needsKey(fallback, `${at}.webhook.fallback.agent`);
      }
    }
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, file };
}
