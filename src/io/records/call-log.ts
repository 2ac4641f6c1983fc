import type { Observable, Subscription } from 'rxjs';
import type { Logger } from '../../kernel/logger.ts';
import type { CallEvent } from '../../machines/call-events.ts';
import { parseNameAddr } from '../../sip/message/name-addr.ts';
import type { MediaReport } from '../media/media-types.ts';

/** user@host of a From/To value (the value itself if it does not parse), for a short log line. */
function who(value: string): string {
  const na = parseNameAddr(value);
  if (!na.ok) return value;
  const u = na.value.uri;
  return u.kind === 'sip' ? `${u.user ? `${u.user}@` : ''}${u.host}` : `${u.scheme}:${u.opaque}`;
}

interface Seen {
  codec?: string;
  answeredAt?: number;
  report?: MediaReport;
}

/**
 * What an operator watching the console sees of each call: one info line when it starts (direction, from,
 * to), one when it is answered (codec) and one when it ends (reason, talk time, packets both ways, loss).
 * Outgoing calls announce themselves when dialled (CallManager); everything else comes from the events.
 */
export function logCalls(
  events$: Observable<CallEvent>,
  media$: Observable<MediaReport & { callId: string }>,
  log: Logger,
  now: () => number = () => performance.now(),
): Subscription {
  const calls = new Map<string, Seen>();
  const seen = (id: string) => calls.get(id) ?? calls.set(id, {}).get(id)!;
  const sub = media$.subscribe((r) => {
    seen(r.callId).report = r;
  });
  sub.add(
    events$.subscribe((e) => {
      switch (e.type) {
        case 'call.incoming':
          seen(e.callId);
          log.info(
            { callId: e.callId, from: who(e.from), to: who(e.to), source: e.source },
            `call in: ${who(e.from)} -> ${who(e.to)}`,
          );
          return;
        case 'call.media':
          seen(e.callId).codec = e.codec;
          return;
        case 'call.answered': {
          const s = seen(e.callId);
          s.answeredAt = now();
          log.info(
            { callId: e.callId, direction: e.direction, codec: s.codec },
            `call answered (${s.codec ?? 'no media'})`,
          );
          return;
        }
        case 'call.ended': {
          const s = seen(e.callId);
          calls.delete(e.callId);
          const seconds = s.answeredAt === undefined ? 0 : Math.round((now() - s.answeredAt) / 100) / 10;
          const r = s.report;
          log.info(
            {
              callId: e.callId,
              direction: e.direction,
              reason: e.reason,
              status: e.status,
              seconds,
              ...(r
                ? { sent: r.sent, received: r.received, lost: r.lost, jitterMs: r.jitterMs, rttMs: r.rttMs }
                : {}),
            },
            `call ended: ${e.reason}${e.status ? ` (${e.status})` : ''}, ${seconds} s` +
              (r ? `, RTP ${r.sent} out / ${r.received} in, ${r.lost} lost` : ''),
          );
          return;
        }
        default:
      }
    }),
  );
  return sub;
}
