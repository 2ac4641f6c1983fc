import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * Draws a machine as a mermaid stateDiagram-v2 (GitHub renders it), straight from the machine definition:
 * compound states become nested blocks (a parallel state's regions separated by `--`), every transition an arrow labelled with its event (and `[guard]`),
 * and the entry actions are listed as notes. Deterministic, so a test can compare it with docs/statecharts.
 */
export function toMermaid(machine: AnyStateMachine, title: string): string {
  const lines: string[] = ['```mermaid', '---', `title: ${title}`, '---', 'stateDiagram-v2'];
  const idOf = (n: AnyStateNode) => (n.path.length === 0 ? 'root' : n.path.join('_'));
  const draw = (node: AnyStateNode, indent: string) => {
    const children = Object.values(node.states) as AnyStateNode[];
    const initial =
      node.type === 'parallel' ? undefined : (node.initial?.target[0] as AnyStateNode | undefined);
    if (initial && children.length > 0) lines.push(`${indent}[*] --> ${idOf(initial)}`);
    children.forEach((child, i) => {
      // a parallel state's regions are separated by "--" (mermaid's concurrency)
      if (node.type === 'parallel' && i > 0) lines.push(`${indent}--`);
      const id = idOf(child);
      const grandChildren = Object.values(child.states);
      if (grandChildren.length > 0) {
        lines.push(`${indent}state "${child.key}" as ${id} {`);
        draw(child, `${indent}  `);
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}state "${child.key}" as ${id}`);
      }
      if (child.type === 'final') lines.push(`${indent}${id} --> [*]`);
    });
  };
  draw(machine.root, '  ');
  // transitions after all states exist, so mermaid places them on the right nodes
  const edges: string[] = [];
  const walk = (node: AnyStateNode) => {
    for (const [event, list] of node.transitions) {
      for (const t of list) {
        // a transition without target stays in its state (it only runs actions): drawn as a self-loop
        for (const target of t.target ?? [node]) {
          const guard = t.guard ? ` [${typeof t.guard === 'string' ? t.guard : 'guard'}]` : '';
          edges.push(`  ${idOf(node)} --> ${idOf(target as AnyStateNode)} : ${event}${guard}`);
        }
      }
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) walk(child);
  };
  walk(machine.root);
  lines.push(...edges);
  const notes: string[] = [];
  const noteWalk = (node: AnyStateNode) => {
    const entry = (node.entry ?? [])
      .map((a: unknown) => (typeof a === 'string' ? a : (a as { type?: string }).type))
      .filter((a: unknown): a is string => typeof a === 'string' && !a.startsWith('xstate.'));
    if (entry.length > 0 && node.path.length > 0)
      notes.push(`  note right of ${idOf(node)} : entry ${entry.join(', ')}`);
    for (const child of Object.values(node.states) as AnyStateNode[]) noteWalk(child);
  };
  noteWalk(machine.root);
  lines.push(...notes, '```');
  return lines.join('\n');
}
