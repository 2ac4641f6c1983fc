import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
 * Reads ROUTES_FILE (YAML, or JSON, which YAML 1.2 reads too) and checks all of it: the schema, prompt
 * files (read now, relative to the routes file, so a reload that cannot read one keeps the old table),
 * and what the rest of the configuration must provide. Every problem is named with where it is.
 */
export function readRoutesFile(path: string, ctx: RoutesContext): RoutesFileResult {
  const where = (p: string) => `ROUTES_FILE ${path}: ${p}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, problems: [where(`cannot read (${(e as Error).message})`)] };
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    const line = e instanceof YAMLParseError ? e.message.split('\n')[0] : (e as Error).message;
    return { ok: false, problems: [where(`not YAML or JSON (${line})`)] };
  }
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
