import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { getShortestPaths, getSimplePaths } from 'xstate/graph';
import {
  type RegistrationEvent,
  refreshDelayMs,
  registrationMachine,
  retryDelayMs,
} from '../../src/machines/registration.machine.ts';
import { uncovered } from '../helpers/model-coverage.ts';

const EVENTS: RegistrationEvent[] = [
  { type: 'reg.start' },
  { type: 'reg.ok', expires: 3600 },
  { type: 'reg.failed', status: 503 },
  { type: 'reg.stop' },
  { type: 'unreg.done' },
  { type: 'timer.refresh' },
  { type: 'timer.retry' },
];
const traversal = { events: EVENTS, serializeState: (s: { value: unknown }) => JSON.stringify(s.value) };

function replay(events: readonly RegistrationEvent[]) {
  const log: string[] = [];
  const taken = new Set<string>();
  const machine = registrationMachine.provide({
    actions: {
      sendRegister: () => void log.push('REGISTER'),
      sendUnregister: () => void log.push('unREGISTER'),
      scheduleRefresh: (_, p) => void log.push(`refresh in ${refreshDelayMs(p.expires)}`),
      scheduleRetry: (_, p) => void log.push(`retry in ${retryDelayMs(p.failures)}`),
      cancelTimers: () => void log.push('cancel'),
      report: (_, p) => void log.push(p.state),
    },
  });
  const actor = createActor(machine).start();
  for (const e of events) {
    const before = actor.getSnapshot();
    if (before.status === 'done') break;
    const node = registrationMachine.getStateNodeById(`registration.${String(before.value)}`);
    if ((node.transitions.get(e.type)?.length ?? 0) > 0) taken.add(`${node.id} ${e.type}`);
    actor.send(e);
  }
  return { log, taken, snapshot: actor.getSnapshot() };
}

describe('registration machine, model-based (xstate/graph)', () => {
  const paths = [
    ...getShortestPaths(registrationMachine, traversal),
    ...getSimplePaths(registrationMachine, traversal),
  ];

  it('reaches every state and takes every transition', () => {
    expect(uncovered(registrationMachine, paths, EVENTS, (events) => replay(events).taken)).toEqual({
      states: [],
      transitions: [],
    });
  });

  it('every path keeps the invariants: unREGISTER only after a REGISTER; timers cancelled at the end', () => {
    for (const p of paths) {
      const r = replay(p.steps.map((s) => s.event as RegistrationEvent));
      expect(r.snapshot.value).toEqual(p.state.value);
      const unreg = r.log.indexOf('unREGISTER');
      if (unreg !== -1) expect(r.log.indexOf('REGISTER')).toBeLessThan(unreg);
      if (r.snapshot.status === 'done') expect(r.log.at(-2)).toBe('cancel');
    }
  });

  it('backs off 2 s, 4 s, 8 s ... up to 5 minutes, and refreshes before expiry', () => {
    expect([1, 2, 3, 4, 20].map((f) => retryDelayMs(f))).toEqual([2000, 4000, 8000, 16000, 300000]);
    expect(refreshDelayMs(3600)).toBe(3_540_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    const r = replay([
      { type: 'reg.start' },
      { type: 'reg.failed', status: 503 },
      { type: 'timer.retry' },
      { type: 'reg.failed', status: 408 },
      { type: 'timer.retry' },
      { type: 'reg.ok', expires: 600 },
    ]);
    expect(r.log).toEqual([
      'REGISTER',
      'failed',
      'retry in 2000',
      'REGISTER',
      'failed',
      'retry in 4000',
      'REGISTER',
      'registered',
      'refresh in 540000',
    ]);
    expect(r.snapshot.context).toMatchObject({ failures: 0, expires: 600, lastStatus: 200 });
  });
});
