import type { Logger } from '../../kernel/logger.ts';
import type { CallDecision, CallFacts } from '../../routing/plan.ts';
import { actionDecision, type RouteTable } from '../../routing/router.ts';
import { actionSchema, issueLines } from '../../routing/routes-schema.ts';
import type { WebhookAsk } from '../calls/call-router.ts';
import { parseBoundedJson } from '../json-limits.ts';
import { SIGNATURE_HEADER, signWebhook } from './signature.ts';

/** The most of a webhook's reply we read (an action is a few hundred bytes; a prompt a few KiB). */
export const MAX_REPLY_BYTES = 64 * 1024;

/** What the app gets for each incoming call (POST, JSON). */
export interface CallWebhookBody {
  readonly event: 'call.incoming';
  readonly callId: string;
  /** The Request-URI's user (else the To header's): the number called. */
  readonly to: string | undefined;
  /** The From header's user: the caller. */
  readonly from: string | undefined;
  readonly trunk: string | undefined;
  readonly source: string;
  readonly route: string;
  /** The INVITE's headers the route's `headers` names (lower-case names; repeated ones joined by ", "). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The body's text, up to `max` bytes; undefined when it is longer. */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Asks a webhook route's endpoint what an incoming call gets: POSTs the call's facts as JSON (signed when
 * WEBHOOK_SECRET is set) and takes one action from the reply, in the routes file's words
 * (`{"agent": {"prompt": "..."}}`, `{"reject": 486}` ...). A reply later than the route's timeoutMs, a
 * non-2xx status, a body that is not one valid action: the route's fallback (default reject 480), and a log
 * line saying why. The call waits meanwhile (its INVITE has had 100 Trying; a CANCEL is honoured after).
 */
export function callWebhook(
  log: Logger,
  secret: string | undefined,
  now = () => Date.now() / 1000,
): WebhookAsk {
  return async (
    table: RouteTable,
    route: string,
    facts: CallFacts,
    trunk: string | undefined,
  ): Promise<CallDecision> => {
    const spec = table.webhook(route);
    const fallback = (why: string): CallDecision => {
      log.warn(
        { callId: facts.callId, route, why },
        `call webhook failed (${why}): the route's fallback decides`,
      );
      return actionDecision(spec?.fallback ?? { reject: { status: 480 } }, route, trunk, table.defaults);
    };
    if (!spec) return fallback('the route has no webhook url');
    const wanted = new Set(spec.headers.map((h) => h.toLowerCase()));
    const headers: Record<string, string> = {};
    for (const h of facts.headers) {
      const name = h.name.toLowerCase();
      if (wanted.has(name)) headers[name] = headers[name] ? `${headers[name]}, ${h.value}` : h.value;
    }
    const body: CallWebhookBody = {
      event: 'call.incoming',
      callId: facts.callId,
      to: facts.requestUser ?? facts.toUser,
      from: facts.fromUser,
      trunk,
      source: facts.source,
      route,
      headers,
    };
    const text = JSON.stringify(body);
    let reply: string | undefined;
    const signal = AbortSignal.timeout(spec.timeoutMs);
    const post = () =>
      fetch(spec.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(secret ? { [SIGNATURE_HEADER]: signWebhook(secret, text, now()) } : {}),
        },
        body: text,
        signal,
        // never to another host: a redirect would re-POST the call's details and signature there, and let
        // a server we did not name decide the call. A 3xx is an answer like any other non-2xx: the fallback.
        redirect: 'manual',
      });
    try {
      // a kept-alive connection the app closed just as we reused it fails before any answer: once more on
      // a new one, within the same timeout (the app never saw the first request)
      const res = await post().catch((e: Error) => {
        if (signal.aborted || !closedUnderUs(e)) throw e;
        return post();
      });
      if (res.status < 200 || res.status >= 300) {
        await res.body?.cancel();
        return fallback(`HTTP ${res.status}${res.status < 400 ? ': redirects are not followed' : ''}`);
      }
      reply = await readCapped(res, MAX_REPLY_BYTES);
    } catch (e) {
      const err = e as Error;
      return fallback(err.name === 'TimeoutError' ? `no answer within ${spec.timeoutMs} ms` : err.message);
    }
    if (reply === undefined) return fallback(`reply longer than ${MAX_REPLY_BYTES} bytes`);
    const parsed = parseBoundedJson(reply);
    if (!parsed.ok)
      return fallback(parsed.kind === 'syntax' ? 'reply is not JSON' : `reply refused: ${parsed.message}`);
    const json = parsed.value;
    const action = actionSchema.safeParse(json);
    if (!action.success) return fallback(`reply is not one action: ${issueLines(action.error).join('; ')}`);
    const decision = actionDecision(action.data, route, trunk, table.defaults);
    log.info({ callId: facts.callId, route, action: Object.keys(action.data)[0] }, 'call webhook decided');
    return decision;
  };
}

/** The connection was closed or reset before the request could be answered (a stale keep-alive socket). */
function closedUnderUs(e: Error): boolean {
  const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
  return (
    cause?.code === 'ECONNRESET' ||
    cause?.code === 'UND_ERR_SOCKET' ||
    cause?.code === 'EPIPE' ||
    /other side closed/i.test(cause?.message ?? '')
  );
}
