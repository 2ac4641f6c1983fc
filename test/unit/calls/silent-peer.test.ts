import { describe, expect, it } from 'vitest';
import { callMachine } from '../../../src/machines/call.machine.ts';
import { parseTargetPatterns } from '../../../src/sip/dialog/transfer-target.ts';
import type { ParsedRequest } from '../../../src/sip/message/parse.ts';
import { type CallHarness, callHarness, OFFER, upstreamReply } from '../../helpers/call-harness.ts';
import { requestText } from '../../helpers/messages.ts';
import { leafStateIds } from '../../helpers/model-coverage.ts';

// Every state of the call machine has a way out on the relay's own clock: whatever a call is waiting for,
// when the peer (and every client) falls silent, the call ends within a bounded time and gives back its
// slot and its RTP ports. Driven through the real call layer (call manager, call sessions, SIP core and
// transactions) on a manual clock; the machine's own list of states is the checklist.

/** The longest any call may outlive a silent peer here: Timer C's 3 min ringing + 64*T1 for the CANCEL. */
const BOUND_MS = 5 * 60_000;
/** Session timers on established calls (RFC 4028): the silent peer's dialog then ends with its session. */
const SESSION = ['Supported: timer', 'Session-Expires: 90;refresher=uas'];
const CALL = 'call-1@127.0.0.1';

function leafIds(value: unknown, prefix: string[] = ['call']): string[] {
  if (typeof value === 'string') return [[...prefix, value].join('.')];
  return Object.entries(value as object).flatMap(([k, sub]) => leafIds(sub, [...prefix, k]));
}

const parsed = parseTargetPatterns(['127.0.0.1']);
if (!parsed.ok) throw new Error(parsed.error);
const allowed = parsed.value;

/** A harness that notes every state a call takes; transfers may go to 127.0.0.1 (the upstream). */
function harness(settings: Parameters<typeof callHarness>[0] = {}) {
  const states = new Set<string>();
  const h = callHarness({
    ...settings,
    deps: {
      transferTargets: allowed,
      ...settings.deps,
      inspect: (e) => {
        if (e.type === '@xstate.snapshot')
          for (const id of leafIds((e.snapshot as unknown as { value: unknown }).value)) states.add(id);
      },
    },
  });
  return { h, states };
}

/** The peer falls silent: the clock runs, one second at a time, until the call is gone (or the bound). */
async function silence(h: CallHarness): Promise<number> {
  const start = h.clock.now();
  while (h.calls.size > 0 && h.clock.now() - start <= BOUND_MS) {
    h.clock.advance(1000);
    await h.settle();
  }
  return h.clock.now() - start;
}

/** The phone calling in: INVITE (with these headers), then what it says once the relay answered. */
async function incoming(h: CallHarness, extra: string[] = []) {
  let branch = 0;
  let toTag: string | undefined;
  const send = (o: Parameters<typeof requestText>[0]) => {
    const sent = h.deliver(
      requestText({ callId: CALL, branch: `z9hG4bK-silent-${++branch}`, ...(toTag ? { toTag } : {}), ...o }),
    );
    return sent;
  };
  const sent = send({ body: OFFER(), extra: ['Content-Type: application/sdp', ...extra] });
  await h.settle();
  h.clock.advance(100); // the ring delay
  await h.settle();
  toTag = h.responses(h.sent).find((r) => r.toTag)?.toTag;
  void sent;
  return {
    ack: () => send({ method: 'ACK' }),
    refer: (target: string) => send({ method: 'REFER', cseq: 2, extra: [`Refer-To: <${target}>`] }),
    /** Answers our re-INVITE or UPDATE with 200 and ACKs a re-INVITE. */
    answer: (req: ParsedRequest) => {
      h.deliver(upstreamReply(req, 200, { body: OFFER(), toTag: req.fromTag ?? '' }));
    },
  };
}

/** A call we place, to the harness's upstream at 127.0.0.1:5070: its INVITE. */
async function outgoing(h: CallHarness): Promise<ParsedRequest> {
  const r = await h.calls.dial('1001');
  expect(r.ok).toBe(true);
  return h.requests(h.sent, 'INVITE')[0]!;
}

const callId = (h: CallHarness) => h.calls.list()[0]!.callId;

/** One way into one or more states, after which the peer says nothing more. */
interface Scenario {
  readonly name: string;
  readonly settings?: Parameters<typeof callHarness>[0];
  readonly run: (h: CallHarness) => Promise<void>;
  /** Calls it makes (a REFER received makes a second); default 1. */
  readonly calls?: number;
}

const scenarios: Scenario[] = [
  {
    name: 'incoming, ringing: nobody answers',
    settings: { settings: { autoAnswer: false } },
    run: async (h) => void (await incoming(h)),
  },
  {
    name: 'incoming, answered: the ACK never comes',
    run: async (h) => void (await incoming(h)),
  },
  {
    name: 'incoming, answered, hung up before the ACK that never comes',
    settings: { settings: { autoAnswer: false } },
    run: async (h) => {
      await incoming(h);
      h.calls.answer(CALL);
      h.calls.hangup(CALL);
    },
  },
  {
    name: 'early media: the reliable 183 is never PRACKed, the answer waits for it, then a hang-up',
    settings: { settings: { earlyMedia: true } },
    run: async (h) => {
      await incoming(h, ['Supported: 100rel']);
      h.calls.earlyMediaPlayed(CALL);
      h.calls.hangup(CALL);
    },
  },
  {
    name: 'established with a session timer: our refresh goes unanswered',
    run: async (h) => {
      const p = await incoming(h, SESSION);
      p.ack();
    },
  },
  {
    name: 'established: our hold re-INVITE goes unanswered',
    run: async (h) => {
      const p = await incoming(h, SESSION);
      p.ack();
      expect(h.calls.hold(CALL, true)).toEqual({ ok: true });
    },
  },
  {
    name: 'established and held, then silent (resume unanswered)',
    run: async (h) => {
      const p = await incoming(h, SESSION);
      p.ack();
      h.calls.hold(CALL, true);
      p.answer(h.requests(h.sent, 'INVITE').at(-1)!);
      await h.settle();
      expect(h.calls.hold(CALL, false)).toEqual({ ok: true });
    },
  },
  {
    name: 'established: a REFER we sent is never answered',
    run: async (h) => {
      const p = await incoming(h, SESSION);
      p.ack();
      expect(h.calls.transfer(CALL, '2000')).toMatchObject({ ok: true });
    },
  },
  {
    name: 'established: a REFER received, the target we call never answers',
    calls: 2,
    run: async (h) => {
      const p = await incoming(h, SESSION);
      p.ack();
      const sent = p.refer('sip:2000@127.0.0.1:5070');
      expect(h.responses(sent).map((r) => r.msg.status)).toContain(202);
      await h.settle();
    },
  },
  {
    name: 'established: we hang up, our BYE is never answered',
    run: async (h) => {
      const p = await incoming(h);
      p.ack();
      h.calls.hangup(CALL);
    },
  },
  {
    name: 'outgoing: no answer at all',
    run: async (h) => void (await outgoing(h)),
  },
  {
    name: 'outgoing: hung up before any provisional, then nothing',
    run: async (h) => {
      await outgoing(h);
      h.calls.hangup(callId(h));
    },
  },
  {
    name: 'outgoing: 180, then the far end falls silent (no answer, no 487 to our CANCEL)',
    run: async (h) => {
      const invite = await outgoing(h);
      h.deliver(upstreamReply(invite, 180));
    },
  },
  {
    name: 'outgoing: 180, we hang up, the CANCEL and the INVITE are never answered',
    run: async (h) => {
      const invite = await outgoing(h);
      h.deliver(upstreamReply(invite, 180));
      h.calls.hangup(callId(h));
    },
  },
];

describe('a silent peer: every state ends on its own timer', () => {
  const seen = new Set<string>();
  for (const s of scenarios)
    it(s.name, async () => {
      const { h, states } = harness(s.settings);
      await s.run(h);
      const n = s.calls ?? 1;
      expect(h.calls.size).toBe(n);
      const took = await silence(h);
      for (const id of states) seen.add(id);
      expect(h.calls.size, `still ${h.calls.list()[0]?.state} after ${took / 1000} s`).toBe(0);
      expect(h.released).toHaveLength(n); // their RTP ports are back
      expect(h.events.filter((e) => e.type === 'call.ended')).toHaveLength(n);
    });

  it('the scenarios above took the call through every state of the machine', () => {
    expect(leafStateIds(callMachine).filter((id) => !seen.has(id) && id !== 'call.idle')).toEqual([]);
  });
});

describe('Session-Expires: 4294967295 (RFC 4028 sets no maximum)', () => {
  it('is reduced to a day in our 2xx: the call is still up a minute later, no BYE (the timer fired at once)', async () => {
    const { h } = harness();
    const p = await incoming(h, ['Supported: timer', 'Session-Expires: 4294967295;refresher=uac']);
    const ok = h.responses(h.sent).find((r) => r.msg.status === 200)!;
    expect(ok.msg.headers.find((x) => x.name.toLowerCase() === 'session-expires')?.value).toBe(
      '86400;refresher=uac',
    );
    p.ack();
    for (let i = 0; i < 60; i++) {
      h.clock.advance(1000);
      await h.settle();
    }
    expect(h.requests(h.sent, 'BYE')).toEqual([]);
    expect(h.calls.list()[0]?.state).toBe('established');
  });
});
