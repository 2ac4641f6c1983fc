import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import { type AiSessionEvent, aiSessionMachine } from '../../src/machines/ai-session.machine.ts';
import { uncovered } from '../helpers/model-coverage.ts';

const EVENTS: AiSessionEvent[] = [
  { type: 'say' },
  { type: 'speech.started' },
  { type: 'turn.ended' },
  { type: 'reply.audio' },
  { type: 'reply.done' },
  { type: 'provider.failed', reason: '503' },
  { type: 'timer.noReply' },
  { type: 'call.ended' },
];
const traversal = { events: EVENTS, serializeState: (s: { value: unknown }) => JSON.stringify(s.value) };

function replay(events: readonly AiSessionEvent[]) {
  const log: string[] = [];
  const taken = new Set<string>();
  const effect = (name: string) => () => void log.push(name);
  const machine = aiSessionMachine.provide({
    actions: {
      startResponse: effect('respond'),
      startSpeech: effect('speak'),
      cancelResponse: effect('cancel'),
      flushPlayout: effect('flush'),
      speakApology: effect('apology'),
      startNoReplyTimer: effect('timer+'),
      cancelNoReplyTimer: effect('timer-'),
    },
  });
  const actor = createActor(machine).start();
  const states: string[] = [];
  for (const e of events) {
    const before = actor.getSnapshot();
    if (before.status === 'done') break;
    const node = aiSessionMachine.getStateNodeById(`ai.${String(before.value)}`);
    if ((node.transitions.get(e.type)?.length ?? 0) > 0) taken.add(`${node.id} ${e.type}`);
    log.push(`<${e.type}>`);
    actor.send(e);
    states.push(String(actor.getSnapshot().value));
  }
  return { log, taken, states, snapshot: actor.getSnapshot() };
}

describe('AI session machine, model-based (xstate/graph)', () => {
  const paths = [
    ...getShortestPaths(aiSessionMachine, traversal),
    ...getSimplePaths(aiSessionMachine, traversal),
  ];

  it('reaches every state and takes every transition', () => {
    expect(uncovered(aiSessionMachine, paths, EVENTS, (events) => replay(events).taken)).toEqual({
      states: [],
      transitions: [],
    });
  });

  it('on every path, extended by every event: the invariants of a conversation hold', () => {
    for (const p of paths) {
      for (const extra of EVENTS) {
        const r = replay([...p.steps.map((s) => s.event as AiSessionEvent), extra]);
        // the no-reply timer runs exactly while thinking
        const started = r.log.filter((l) => l === 'timer+').length;
        const cancelled = r.log.filter((l) => l === 'timer-').length;
        expect(started - cancelled).toBe(r.snapshot.value === 'thinking' ? 1 : 0);
        // nothing is generated or played after the call ended
        const end = r.log.indexOf('<call.ended>');
        if (end !== -1) {
          expect(r.snapshot.value).toBe('closed');
          const after = r.log.slice(end + 1).filter((l) => !l.startsWith('<') && l !== 'timer-');
          expect(after).toEqual(['cancel', 'flush']);
        }
        // we only speak an apology after a failure or a timeout
        for (let i = 0; i < r.log.length; i++) {
          if (r.log[i] === 'apology')
            expect(['<provider.failed>', '<timer.noReply>', 'cancel', 'timer-']).toContain(r.log[i - 1]);
        }
      }
    }
  });

  it('barge-in while speaking flushes the playout before cancelling, and counts it', () => {
    const r = replay([{ type: 'turn.ended' }, { type: 'reply.audio' }, { type: 'speech.started' }]);
    expect(r.log).toEqual([
      '<turn.ended>',
      'respond',
      'timer+',
      '<reply.audio>',
      'timer-',
      '<speech.started>',
      'flush',
      'cancel',
    ]);
    expect(r.snapshot.value).toBe('listening');
    expect(r.snapshot.context).toMatchObject({ turns: 1, bargeIns: 1, failures: 0 });
  });

  it('a provider that never answers leads to the apology, then back to listening', () => {
    const r = replay([
      { type: 'turn.ended' },
      { type: 'timer.noReply' },
      { type: 'reply.done' },
      { type: 'turn.ended' },
    ]);
    expect(r.states).toEqual(['thinking', 'recovering', 'listening', 'thinking']);
    expect(r.log).toContain('apology');
    expect(r.snapshot.context).toMatchObject({ turns: 2, failures: 1, lastFailure: 'timeout' });
  });
});
