import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * Coverage of a flat machine by model-based paths: the top-level states no path reaches, and the
 * transitions (`state-id event`) no replay took. `taken(events)` replays events on the real actor and
 * reports the transitions it used; every path is extended by every event, so transitions out of the last
 * state count too.
 */
export function uncovered<E>(
  machine: AnyStateMachine,
  paths: readonly { state: { value: unknown }; steps: readonly { event: unknown }[] }[],
  events: readonly E[],
  taken: (events: E[]) => Iterable<string>,
): { states: string[]; transitions: string[] } {
  const reached = new Set(paths.map((p) => String(p.state.value)));
  const all = new Set<string>();
  for (const n of Object.values(machine.root.states) as AnyStateNode[]) {
    for (const [ev, list] of n.transitions) if (list.length > 0) all.add(`${n.id} ${ev}`);
  }
  const seen = new Set<string>();
  for (const p of paths) {
    const prefix = p.steps.map((s) => s.event as E);
    for (const extra of events) for (const t of taken([...prefix, extra])) seen.add(t);
  }
  return {
    states: Object.keys(machine.root.states).filter((s) => !reached.has(s)),
    transitions: [...all].filter((t) => !seen.has(t)),
  };
}

/** Every leaf of a machine (states with no children), as state ids: `call.ringing.alerting`, ... */
export function leafStateIds(machine: AnyStateMachine): string[] {
  const out: string[] = [];
  const walk = (n: AnyStateNode) => {
    const kids = Object.values(n.states) as AnyStateNode[];
    if (kids.length === 0) out.push(n.id);
    for (const c of kids) walk(c);
  };
  walk(machine.root);
  return out;
}
