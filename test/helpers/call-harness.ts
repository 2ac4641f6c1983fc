import { silentLogger } from '../../src/kernel/logger.ts';
import type { CallEvent } from '../../src/machines/call-events.ts';
import { CallManager, type CallManagerDeps } from '../../src/machines/call-manager.ts';
import type { CallSettings, MediaPorts } from '../../src/machines/call-settings.ts';
import type { ParsedRequest, ParsedResponse } from '../../src/sip/message/parse.ts';
import { timerTable } from '../../src/sip/transaction/timers.ts';
import { coreHarness, type Sent } from './core-harness.ts';

export const OFFER = (pts = '0 8 101', extra: string[] = [], port = 7000) =>
  [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP ${pts}`,
    ...extra,
    '',
  ].join('\r\n');

/**
 * The call layer without sockets: a CallManager as the SIP core's transaction user, a transport that records
 * what is sent, a manual clock (a 32 s ACK timeout is `clock.advance(32_000)`) and RTP "ports" that are only
 * numbers. Re-INVITE, 491, ACK timeouts, delayed offers and auth retries run in milliseconds.
 */
export function callHarness(
  opts: { settings?: Partial<CallSettings>; deps?: Partial<CallManagerDeps> } = {},
) {
  const events: CallEvent[] = [];
  const free: number[] = [];
  for (let p = 20_000; p < 20_040; p += 2) free.push(p);
  const released: MediaPorts[] = [];
  const leased = new Map<string, MediaPorts>();
  let manager: CallManager | undefined;
  const h = coreHarness({
    tu: (core, clock) => {
      manager = new CallManager({
        core,
        clock,
        timers: timerTable(),
        log: silentLogger,
        maxCalls: 10,
        ports: {
          allocate: async (callId) => {
            const rtpPort = free.shift();
            if (rtpPort === undefined) return undefined;
            leased.set(callId, { rtpPort, rtcpPort: rtpPort + 1 });
            return leased.get(callId);
          },
          release: async (callId) => {
            const p = leased.get(callId);
            if (!p) return;
            leased.delete(callId);
            released.push(p);
            free.push(p.rtpPort);
          },
        },
        settings: {
          autoAnswer: true,
          ringDelayMs: 100,
          ringTimeoutMs: 60_000,
          codecs: ['PCMU', 'PCMA'],
          codecOrder: 'offer',
          mediaAddress: '127.0.0.1',
          contactUser: 'relay',
          ...opts.settings,
        },
        upstream: {
          uriHost: '127.0.0.1:5070',
          dest: { host: '127.0.0.1', port: 5070 },
          from: '<sip:relay@127.0.0.1>',
        },
        ...opts.deps,
      });
      return manager;
    },
  });
  const calls = manager!;
  calls.events$.subscribe((e) => events.push(e));
  /** Lets promise continuations (port allocation) run. */
  const settle = () => new Promise((r) => setImmediate(r));
  const responses = (list: Sent[]) =>
    list.filter((s) => s.message.kind === 'response').map((s) => s.parsed as ParsedResponse);
  const requests = (list: Sent[], method?: string) =>
    list
      .filter((s) => s.message.kind === 'request' && (!method || s.message.method === method))
      .map((s) => s.parsed as ParsedRequest);
  const since = (n: number) => h.sent.slice(n);
  return { ...h, calls, events, released, settle, responses, requests, since };
}

export type CallHarness = ReturnType<typeof callHarness>;

/** A response from the upstream to a request we sent, with optional extra headers and SDP. */
export function upstreamReply(
  req: ParsedRequest,
  status: number,
  o: { extra?: string[]; body?: string; toTag?: string } = {},
) {
  const keep = req.msg.headers.filter((x) => /^(via|from|to|call-id|cseq)$/i.test(x.name));
  const lines = keep.map((x) =>
    x.name.toLowerCase() === 'to' && status > 100
      ? `To: ${x.value};tag=${o.toTag ?? 'up1'}`
      : `${x.name}: ${x.value}`,
  );
  const body = o.body ?? '';
  return [
    `SIP/2.0 ${status} Status`,
    ...lines,
    'Contact: <sip:up@127.0.0.1:5070>',
    ...(o.extra ?? []),
    ...(body ? ['Content-Type: application/sdp'] : []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}
