import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AnyStateNode, createActor } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { callMachine } from '../../src/machines/call.machine.ts';
import type { CallMachineEvent } from '../../src/machines/call-machine/types.ts';
import { statechartDocs } from '../../src/machines/statechart-docs.ts';
import { leafStateIds } from '../helpers/model-coverage.ts';

/** Every event the machine knows, with a representative payload; timers are explicit events. */
const EVENTS: CallMachineEvent[] = [
  { type: 'sip.invite' },
  { type: 'client.dial' },
  { type: 'client.answer' },
  { type: 'client.reject', status: 603 },
  { type: 'client.hangup' },
  { type: 'sip.provisional', status: 180 },
  { type: 'sip.answered' },
  { type: 'sip.failed', status: 486, reason: 'Busy Here' },
  { type: 'sip.timeout' },
  { type: 'sip.ack' },
  { type: 'sip.cancel' },
  { type: 'sip.bye' },
  { type: 'sip.byeDone' },
  { type: 'media.dtmf', digit: '5' },
  { type: 'client.transfer', target: 'sip:1002@127.0.0.1' },
  { type: 'sip.referAccepted' },
  { type: 'sip.transferProgress', status: 180 },
  { type: 'sip.transferDone', status: 200 },
  { type: 'sip.transferFailed', status: 486, reason: 'Busy Here' },
  { type: 'timer.noAnswer' },
  { type: 'timer.ackTimeout' },
  { type: 'timer.prackTimeout' },
  { type: 'timer.transfer' },
  { type: 'timer.sessionRefresh' },
  { type: 'timer.sessionExpired' },
  { type: 'sip.refreshed' },
  { type: 'sip.refreshFailed', status: 491 },
  { type: 'sip.refreshFailed', status: 481 },
  { type: 'client.hold' },
  { type: 'client.resume' },
  { type: 'sip.reinviteDone' },
  { type: 'sip.reinviteFailed', status: 491 },
  { type: 'sip.reinviteFailed', status: 488 },
  { type: 'sip.reinviteFailed', status: 408 },
  { type: 'timer.reinviteRetry' },
  { type: 'sip.refer', target: 'sip:1002@127.0.0.1' },
  { type: 'referred.done', status: 200 },
  { type: 'referred.failed', status: 486, reason: 'Busy Here' },
];

const traversal = {
  events: EVENTS,
  input: { direction: 'incoming' as const },
  serializeState: (s: { value: unknown }) => JSON.stringify(s.value),
};

/** The machine with every named effect recorded instead of performed. */
function recorder() {
  const log: string[] = [];
  const rec = (name: string) => () => void log.push(name);
  const machine = callMachine.provide({
    actions: {
      sendRinging: rec('sendRinging'),
      startRingTimer: rec('startRingTimer'),
      sendAnswer: rec('sendAnswer'),
      sendReject: (_, p) => void log.push(`sendReject:${p.status}`),
      sendRequestTerminated: rec('sendRequestTerminated'),
      sendInvite: rec('sendInvite'),
      sendCancel: rec('sendCancel'),
      sendAck: rec('sendAck'),
      sendBye: rec('sendBye'),
      stopTimers: rec('stopTimers'),
      emit: (_, p) => void log.push(`emit:${p.type}`),
      emitDtmf: (_, p) => void log.push(`dtmf:${p.digit}`),
      sendRefer: (_, p) => void log.push(`sendRefer:${p.target}`),
      endTransfer: rec('endTransfer'),
      sendRefresh: rec('sendRefresh'),
      sendHold: rec('sendHold'),
      startReferredCall: (_, p) => void log.push(`callReferred:${p.target}`),
      emitReferred: (_, p) => void log.push(`referred:${p.status}${p.code ? `:${p.code}` : ''}`),
      sendResume: rec('sendResume'),
      scheduleReinviteRetry: rec('scheduleReinviteRetry'),
      emitHold: (_, p) => void log.push(`hold:${p.status}${p.code ? `:${p.code}` : ''}`),
      emitTransfer: (_, p) => void log.push(`transfer:${p.status}${p.code ? `:${p.code}` : ''}`),
    },
  });
  return { machine, log };
}

/** Every transition of the definition, as "state id + event". */
function allTransitions(): Set<string> {
  const out = new Set<string>();
  const walk = (n: AnyStateNode) => {
    for (const [event, list] of n.transitions) if (list.length > 0) out.add(`${n.id} ${event}`);
    for (const c of Object.values(n.states) as AnyStateNode[]) walk(c);
  };
  walk(callMachine.root);
  return out;
}

/** Every active leaf of a state value as a path (a parallel state has one per region). */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value === 'string') return [[...prefix, value]];
  return Object.entries(value as object).flatMap(([k, sub]) => leafPaths(sub, [...prefix, k]));
}

/** The state node that handles `event` in the active leaves: the deepest one with a transition for it. */
function handler(value: unknown, event: string): string | undefined {
  for (const path of leafPaths(value)) {
    for (let i = path.length; i >= 0; i--) {
      const node = callMachine.getStateNodeById(['call', ...path.slice(0, i)].join('.'));
      if ((node.transitions.get(event)?.length ?? 0) > 0) return `${node.id} ${event}`;
    }
  }
  return undefined;
}

const leafStates = (): string[] => leafStateIds(callMachine);

/** Replays a path on a live actor; returns the recorded effects and the transitions taken. */
function replay(events: readonly CallMachineEvent[]) {
  const { machine, log } = recorder();
  const actor = createActor(machine, { input: { direction: 'incoming' } }).start();
  const taken: string[] = [];
  const visited: string[] = [];
  for (const e of events) {
    const before = actor.getSnapshot();
    if (before.status === 'done') break;
    const h = handler(before.value, e.type);
    actor.send(e);
    if (h) taken.push(h);
    visited.push(...leafIds(actor.getSnapshot().value));
  }
  return { log, taken, visited, snapshot: actor.getSnapshot() };
}

function leafIds(value: unknown): string[] {
  return leafPaths(value).map((p) => ['call', ...p].join('.'));
}

/** Rules every run of the machine must keep, whatever the path. */
function checkInvariants(
  events: readonly CallMachineEvent[],
  log: string[],
  finalValue: unknown,
  reason: unknown,
) {
  const count = (x: string) => log.filter((l) => l === x).length;
  const ended = finalValue === 'ended';
  // RFC 4028: a refresh only while the call is up, and an expired session ends with our BYE
  if (log.includes('sendRefresh'))
    expect(log.indexOf('emit:call.answered')).toBeLessThan(log.indexOf('sendRefresh'));
  if (reason === 'session-expired' || reason === 'lost') expect(log).toContain('sendBye');
  // RFC 3264 8.4: hold and resume only on an answered call, and each outcome after its re-INVITE
  const reinvites = log.filter((l) => l === 'sendHold' || l === 'sendResume').length;
  if (reinvites > 0) expect(log.indexOf('emit:call.answered')).toBeLessThan(log.indexOf('sendHold'));
  expect(log.filter((l) => l.startsWith('hold:')).length).toBeLessThanOrEqual(reinvites);
  expect(count('emit:call.ended')).toBe(ended ? 1 : 0);
  // DTMF is reported only while the call is up: after call.answered and before call.ended
  const firstDtmf = log.findIndex((l) => l.startsWith('dtmf:'));
  if (firstDtmf !== -1) expect(log.indexOf('emit:call.answered')).toBeLessThan(firstDtmf);
  if (ended) expect(reason, 'a finished call says why').toBeDefined();
  expect(count('emit:call.answered')).toBeLessThanOrEqual(1);
  expect(count('sendAnswer')).toBeLessThanOrEqual(1);
  expect(count('sendInvite')).toBeLessThanOrEqual(1);
  // RFC 3261 9.1: no CANCEL before a provisional response
  const cancelAt = log.indexOf('sendCancel');
  if (cancelAt !== -1) expect(events.some((e) => e.type === 'sip.provisional')).toBe(true);
  // RFC 3261 15: a BYE only on a confirmed dialog (ACK sent, ACK received, or the 2xx gave up)
  if (log.includes('sendBye')) {
    expect(
      log.includes('sendAck') || events.some((e) => e.type === 'sip.ack' || e.type === 'timer.ackTimeout'),
    ).toBe(true);
  }
  // an incoming INVITE gets exactly one final answer from the machine's side: 200, a rejection or 487;
  // the one exception is the 500 for a reliable 183 never PRACKed, where the session held the 200 back
  // (RFC 3262 3: no 2xx while a reliable provisional with an answer awaits its PRACK)
  const finals = log.filter(
    (l) => l === 'sendAnswer' || l.startsWith('sendReject') || l === 'sendRequestTerminated',
  );
  const noPrack = reason === 'no-prack';
  expect(finals.length).toBeLessThanOrEqual(noPrack ? 2 : 1);
  if (noPrack) expect(finals.at(-1)).toBe('sendReject:500');
  // RFC 3515: a REFER only inside an established dialog, one at a time; every transfer outcome after a REFER
  const refers = log.filter((l) => l.startsWith('sendRefer')).length;
  if (refers > 0)
    expect(log.indexOf('emit:call.answered')).toBeLessThan(log.findIndex((l) => l.startsWith('sendRefer')));
  const outcomes = log.filter((l) => /^transfer:(completed|failed)/.test(l)).length;
  expect(outcomes).toBeLessThanOrEqual(refers);
  expect(refers - outcomes).toBeLessThanOrEqual(1);
  // a completed transfer ends the call, with our BYE, as transferred
  if (log.some((l) => l.startsWith('transfer:completed'))) {
    expect(log).toContain('sendBye');
    expect(reason).toBe('transferred');
  }
}

/**
 * Seeded random event sequences from the start: the established state's three parallel regions multiply
 * its simple paths past what can be enumerated (xstate/graph ran out of memory), so long mixed histories are
 * sampled instead; shortest paths still reach every state and, extended by every event, every transition.
 */
function randomWalks(count: number, length: number, seed: number): CallMachineEvent[][] {
  let x = seed >>> 0;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  const start: CallMachineEvent[][] = [
    [{ type: 'sip.invite' }, { type: 'client.answer' }, { type: 'sip.ack' }],
    [{ type: 'client.dial' }, { type: 'sip.answered' }],
    [],
  ];
  return Array.from({ length: count }, (_, i) => [
    ...start[i % start.length]!,
    ...Array.from({ length }, () => EVENTS[Math.floor(next() * EVENTS.length)]!),
  ]);
}

/**
 * What a call still hears when the peer and every client fall silent: the relay's own clocks, each armed by
 * the call session in the states that listen for it (test/unit/calls/silent-peer.test.ts drives the live
 * sessions through every state to check that they are).
 */
const SILENCE: CallMachineEvent[] = [
  { type: 'timer.noAnswer' }, // RING_TIMEOUT_MS (incoming), Timer C's 3 min (outgoing)
  { type: 'timer.ackTimeout' }, // 64*T1 after our 2xx (RFC 3261 13.3.1.4)
  { type: 'timer.prackTimeout' }, // 64*T1 after our reliable 183 (RFC 3262 3)
  { type: 'sip.timeout' }, // Timer B; 64*T1 after our CANCEL (RFC 3261 9.1)
  { type: 'sip.byeDone' }, // our BYE's transaction ends, answered or timed out (Timer F)
  { type: 'timer.transfer' }, // TRANSFER_TIMEOUT_S
  { type: 'timer.sessionRefresh' }, // RFC 4028: half the interval
  { type: 'timer.sessionExpired' },
  { type: 'sip.refreshFailed', status: 408 }, // our refresh timed out
  { type: 'sip.reinviteFailed', status: 408 }, // our hold/resume re-INVITE timed out
  { type: 'client.hangup' }, // RTP_TIMEOUT_S: no RTP from the peer hangs the call up (the media layer)
];

/** The fewest silent events that end a call in `value`, or undefined when silence never ends it. */
function stepsToEnd(events: readonly CallMachineEvent[]): number | undefined {
  let frontier = [events];
  const seen = new Set<string>();
  for (let depth = 0; depth <= 8; depth++) {
    const next: CallMachineEvent[][] = [];
    for (const path of frontier) {
      const r = replay(path);
      if (r.snapshot.status === 'done') return depth;
      const key = JSON.stringify(r.snapshot.value);
      if (seen.has(key)) continue;
      seen.add(key);
      for (const e of SILENCE) next.push([...path, e]);
    }
    frontier = next;
  }
  return undefined;
}

describe('call machine, model-based (xstate/graph)', () => {
  const shortest = getShortestPaths(callMachine, traversal);

  it("from every state, the relay's own timers alone end the call (a silent peer holds no slot)", () => {
    const stuck: string[] = [];
    for (const path of shortest) {
      const events = path.steps.map((s) => s.event as CallMachineEvent);
      // idle is the actor before its first event: a session sends sip.invite or client.dial as it starts it
      if (path.state.value === 'idle') continue;
      if (stepsToEnd(events) === undefined) stuck.push(JSON.stringify(path.state.value));
    }
    expect(stuck).toEqual([]);
  });

  it('shortest paths reach every state', () => {
    const reached = new Set(shortest.flatMap((p) => leafIds(p.state.value)));
    expect([...reached].sort()).toEqual(leafStates().sort());
  });

  it('every shortest path replays on a live actor to the state the model predicts, keeping the invariants', () => {
    for (const path of shortest) {
      const events = path.steps.map((s) => s.event as CallMachineEvent);
      const r = replay(events);
      expect(r.snapshot.value).toEqual(path.state.value);
      checkInvariants(events, r.log, r.snapshot.value, r.snapshot.context.reason);
    }
  });

  it('3,000 random histories keep the invariants', () => {
    for (const events of randomWalks(3000, 14, 20261203)) {
      const r = replay(events);
      expect(r.snapshot.status).not.toBe('error');
      checkInvariants(events, r.log, r.snapshot.value, r.snapshot.context.reason);
    }
  });

  it('shortest paths, each followed by every event, take every transition of the machine', () => {
    const taken = new Set<string>();
    for (const path of shortest) {
      const events = path.steps.map((s) => s.event as CallMachineEvent);
      for (const t of replay(events).taken) taken.add(t);
      for (const extra of EVENTS) for (const t of replay([...events, extra]).taken) taken.add(t);
    }
    expect([...allTransitions()].filter((t) => !taken.has(t))).toEqual([]);
  });

  it('key transitions perform the effects the RFCs ask for', () => {
    const effects = (events: CallMachineEvent[]) => replay(events).log;
    // incoming, auto-answered, then the caller hangs up
    expect(
      effects([{ type: 'sip.invite' }, { type: 'client.answer' }, { type: 'sip.ack' }, { type: 'sip.bye' }]),
    ).toEqual([
      'emit:call.incoming',
      'sendRinging',
      'startRingTimer',
      'sendAnswer',
      'stopTimers',
      'emit:call.answered',
      'stopTimers',
      'emit:call.ended',
    ]);
    // CANCEL while ringing: 487 and a cancelled event
    expect(effects([{ type: 'sip.invite' }, { type: 'sip.cancel' }])).toContain('sendRequestTerminated');
    // outgoing: a 200 that crosses our CANCEL is ACKed, then the call is ended with BYE
    expect(
      effects([
        { type: 'client.dial' },
        { type: 'sip.provisional', status: 180 },
        { type: 'client.hangup' },
        { type: 'sip.answered' },
      ]),
    ).toEqual(['sendInvite', 'emit:call.ringing', 'sendCancel', 'sendAck', 'sendBye']);
    // no answer for 64*T1 after our 200: BYE
    expect(
      effects([{ type: 'sip.invite' }, { type: 'client.answer' }, { type: 'timer.ackTimeout' }]),
    ).toContain('sendBye');
    // a failure carries its status
    const failed = replay([
      { type: 'client.dial' },
      { type: 'sip.failed', status: 486, reason: 'Busy Here' },
    ]);
    expect(failed.snapshot.context).toMatchObject({ reason: 'failed', status: 486, statusText: 'Busy Here' });
    expect(replay([{ type: 'client.dial' }, { type: 'sip.timeout' }]).snapshot.context.status).toBe(408);
    // blind transfer: REFER, 202, NOTIFY 200 -> BYE; a failure (or no outcome in time) keeps the call
    const up: CallMachineEvent[] = [{ type: 'client.dial' }, { type: 'sip.answered' }];
    const target = 'sip:1002@127.0.0.1';
    expect(
      effects([
        ...up,
        { type: 'client.transfer', target },
        { type: 'sip.referAccepted' },
        { type: 'sip.transferProgress', status: 180 },
        { type: 'sip.transferDone', status: 200 },
      ]).slice(3),
    ).toEqual([
      `sendRefer:${target}`,
      'transfer:accepted',
      'transfer:progress:180',
      'endTransfer',
      'transfer:completed:200',
      'sendBye',
    ]);
    const kept = replay([
      ...up,
      { type: 'client.transfer', target },
      { type: 'sip.transferFailed', status: 603, reason: 'Decline' },
    ]);
    expect(kept.snapshot.value).toEqual({
      established: { transfer: 'active', session: 'idle', hold: 'unheld' },
    });
    // session timer: a refresh that gets 491 keeps the call; one that gets 481 (or 408) ends it with BYE
    const refresh: CallMachineEvent[] = [...up, { type: 'timer.sessionRefresh' }];
    const glare = replay([...refresh, { type: 'sip.refreshFailed', status: 491 }]);
    expect(glare.snapshot.value).toMatchObject({ established: { transfer: 'active', session: 'idle' } });
    const gone = replay([...refresh, { type: 'sip.refreshFailed', status: 481 }]);
    expect([gone.log.at(-1), gone.snapshot.context.reason]).toEqual(['sendBye', 'session-expired']);
    const expired = replay([...up, { type: 'timer.sessionExpired' }]);
    expect([expired.log.at(-1), expired.snapshot.context.reason]).toEqual(['sendBye', 'session-expired']);
    // hold: 491 is retried after the timer, 488 leaves the call as it was, resume after hold
    const held = replay([
      ...up,
      { type: 'client.hold' },
      { type: 'sip.reinviteFailed', status: 491 },
      { type: 'timer.reinviteRetry' },
      { type: 'sip.reinviteDone' },
      { type: 'client.resume' },
      { type: 'sip.reinviteFailed', status: 488 },
    ]);
    expect(held.log.slice(3)).toEqual([
      'sendHold',
      'scheduleReinviteRetry',
      'sendHold',
      'hold:held',
      'sendResume',
      'hold:failed:488',
    ]);
    expect(held.snapshot.value).toMatchObject({ established: { hold: 'held' } });
    // a REFER received: accepted, the target called; answered -> BYE this call; refused -> the call goes on
    const referred = replay([...up, { type: 'sip.refer', target }, { type: 'referred.done', status: 200 }]);
    expect(referred.log.slice(3)).toEqual([
      'referred:accepted',
      `callReferred:${target}`,
      'referred:completed:200',
      'sendBye',
    ]);
    expect(referred.snapshot.context.reason).toBe('transferred');
    const stays = replay([
      ...up,
      { type: 'sip.refer', target },
      { type: 'referred.failed', status: 486, reason: 'Busy Here' },
    ]);
    expect(stays.snapshot.value).toMatchObject({ established: { transfer: 'active' } });
    // a transfer and a refresh at once: both regions go on
    const both = replay([...refresh, { type: 'client.transfer', target }, { type: 'sip.refreshed' }]);
    expect(both.snapshot.value).toMatchObject({ established: { transfer: 'transferring', session: 'idle' } });
    expect(kept.log.slice(3)).toEqual([`sendRefer:${target}`, 'endTransfer', 'transfer:failed:603']);
    const late = replay([...up, { type: 'client.transfer', target }, { type: 'timer.transfer' }]);
    expect(late.log.at(-1)).toBe('transfer:failed:408');
    // a second transfer while one is under way is not started; the call can still be hung up
    const twice = replay([...up, { type: 'client.transfer', target }, { type: 'client.transfer', target }]);
    expect(twice.log.filter((l) => l.startsWith('sendRefer'))).toHaveLength(1);
  });
});

describe('docs/statecharts', () => {
  it('matches the machines (run `npm run docs:statecharts` after changing one)', () => {
    for (const [file, text] of Object.entries(statechartDocs())) {
      expect(readFileSync(join(import.meta.dirname, '../../docs/statecharts', file), 'utf8'), file).toBe(
        text,
      );
    }
  });
});
