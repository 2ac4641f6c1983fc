import { z } from 'zod';
import type { ToolName } from '../routing/tool-names.ts';

export { TOOL_NAMES, type ToolName } from '../routing/tool-names.ts';

/*
 * The call-control functions an AI agent may call (AI_TOOLS): described so a model uses them well; every
 * call is checked here (arguments) and by the call itself (TRANSFER_ALLOWED_TARGETS): a caller's words
 * steering the model cannot dial out anywhere else.
 */

/** What the call offers its agent. Transfer and end happen once the reply being spoken has been heard. */
export interface CallTools {
  transfer(target: string | undefined): { ok: true; target: string } | { ok: false; error: string };
  endCall(): void;
  sendDtmf(digits: string): { ok: true } | { ok: false; error: string };
}

interface ToolSpec {
  readonly description: string;
  readonly parameters: Record<string, unknown>;
  readonly args: z.ZodType;
}

const SPECS: Record<ToolName, ToolSpec> = {
  transfer_call: {
    description:
      'Transfer the caller to a person (a human agent, the operator, another department). Use it when the ' +
      'caller asks for a person, or needs something you cannot do. First tell the caller in one short ' +
      'sentence that you are connecting them; the transfer starts once they have heard it. Leave target ' +
      'empty for the default human agent.',
    parameters: {
      type: 'object',
      properties: {
        target: {
          type: 'string',
          description:
            'Optional: the extension number or SIP URI to transfer to; empty for the default agent.',
        },
      },
      additionalProperties: false,
    },
    args: z.object({ target: z.string().trim().max(256).optional() }),
  },
  end_call: {
    description:
      'Hang up. Use it only when the conversation is over (the caller said goodbye or has nothing more), ' +
      'after your closing sentence: the call ends once that sentence has been played.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
    args: z.object({}).passthrough(),
  },
  send_dtmf: {
    description:
      "Press keys on the phone (DTMF tones), e.g. to pick an option in the other side's phone menu. " +
      'digits: 0-9, *, #, A-D, in order.',
    parameters: {
      type: 'object',
      properties: { digits: { type: 'string', description: 'The keys to press, e.g. "1" or "1234#".' } },
      required: ['digits'],
      additionalProperties: false,
    },
    args: z.object({ digits: z.string().regex(/^[0-9A-Da-d*#]{1,32}$/, 'digits are 0-9, *, #, A-D') }),
  },
};

/** The Chat Completions `tools` for the enabled functions. */
export function chatTools(enabled: readonly ToolName[]) {
  return enabled.map((name) => ({
    type: 'function' as const,
    function: { name, description: SPECS[name].description, parameters: SPECS[name].parameters },
  }));
}

/** The Realtime API's session `tools` (the same functions, its flatter shape). */
export function realtimeTools(enabled: readonly ToolName[]) {
  return enabled.map((name) => ({
    type: 'function' as const,
    name,
    description: SPECS[name].description,
    parameters: SPECS[name].parameters,
  }));
}

/** What a tool call came to: the result the model gets back (JSON), whether it worked. */
export interface ToolOutcome {
  readonly name: string;
  readonly arguments: string;
  readonly ok: boolean;
  readonly result: Record<string, unknown>;
}

/** Runs one function call of the model: arguments validated, then the call's own checks. */
export function runTool(
  enabled: readonly ToolName[],
  name: string,
  args: string,
  tools: CallTools,
): ToolOutcome {
  const fail = (error: string): ToolOutcome => ({ name, arguments: args, ok: false, result: { error } });
  if (!(enabled as readonly string[]).includes(name)) return fail(`no tool named ${name}`);
  let raw: unknown;
  try {
    raw = args.trim() === '' ? {} : JSON.parse(args);
  } catch {
    return fail('arguments are not valid JSON');
  }
  const spec = SPECS[name as ToolName];
  const parsed = spec.args.safeParse(raw);
  if (!parsed.success) return fail(parsed.error.issues[0]?.message ?? 'bad arguments');
  const a = parsed.data as { target?: string; digits?: string };
  const done = (result: Record<string, unknown>): ToolOutcome => ({
    name,
    arguments: args,
    ok: true,
    result,
  });
  switch (name as ToolName) {
    case 'transfer_call': {
      const r = tools.transfer(a.target || undefined);
      return r.ok ? done({ status: 'transferring', target: r.target }) : fail(r.error);
    }
    case 'end_call':
      tools.endCall();
      return done({ status: 'the call ends after your reply has been played' });
    case 'send_dtmf': {
      const r = tools.sendDtmf(a.digits ?? '');
      return r.ok ? done({ status: 'sent', digits: a.digits }) : fail(r.error);
    }
  }
}
