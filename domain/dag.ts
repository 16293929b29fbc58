import { NonRetryableError } from './errors';

/** A named step that may run once every node it depends on has run. */
export interface DagNode<N extends string = string> {
  readonly name: N;
  readonly dependsOn: readonly N[];
}

/**
 * Every problem that makes the nodes unusable as a DAG, each naming the nodes
 * involved: duplicate names, dependencies on nodes that do not exist, and
 * cycles (with the path that closes them). Empty when the graph is valid.
 */
export function dagProblems(nodes: readonly DagNode[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.name)) problems.push(`duplicate node name "${node.name}": each node needs a unique name`);
    seen.add(node.name);
  }
  for (const node of nodes) {
    for (const dep of node.dependsOn) {
      if (!seen.has(dep)) problems.push(`node "${node.name}" depends on unknown node "${dep}": add it or fix the name`);
    }
  }
  for (const cycle of findCycles(nodes, seen)) {
    problems.push(`cycle: ${cycle.map((n) => `"${n}"`).join(' → ')}: remove one of these dependencies`);
  }
  return problems;
}

/** Throws a non-retryable InvalidDag error listing every problem; a bad DAG cannot be fixed by retrying. */
export function assertValidDag(nodes: readonly DagNode[]): void {
  const problems = dagProblems(nodes);
  if (problems.length > 0) {
    throw new NonRetryableError('InvalidDag', `invalid DAG: ${problems.join('; ')}`, { problems });
  }
}

/**
 * Topological order as levels: level 0 has no dependencies, and each later
 * level depends only on earlier ones, so the nodes of one level can run in
 * parallel. Within a level nodes keep their declaration order, which makes the
 * result deterministic (workflow code relies on that for replay).
 */
export function topologicalLevels<N extends string>(nodes: readonly DagNode<N>[]): N[][] {
  assertValidDag(nodes);
  const levelOf = new Map<N, number>();
  const remaining = [...nodes];
  const levels: N[][] = [];
  while (remaining.length > 0) {
    const ready = remaining.filter((n) => n.dependsOn.every((d) => levelOf.has(d)));
    // Validation ruled out cycles and unknown dependencies, so some node is always ready.
    const level = levels.length;
    for (const n of ready) levelOf.set(n.name, level);
    levels.push(ready.map((n) => n.name));
    for (const n of ready) remaining.splice(remaining.indexOf(n), 1);
  }
  return levels;
}

/** A flat order consistent with the dependencies: the levels, one after another. */
export function topologicalOrder<N extends string>(nodes: readonly DagNode<N>[]): N[] {
  return topologicalLevels(nodes).flat();
}

/**
 * Cycles as closed paths (first node repeated at the end), found by a
 * depth-first search over known nodes; each distinct set of nodes is reported
 * once. Unknown dependencies are skipped here because they are reported apart.
 */
function findCycles(nodes: readonly DagNode[], known: ReadonlySet<string>): string[][] {
  const edges = new Map<string, string[]>();
  for (const node of nodes) {
    const deps = edges.get(node.name) ?? [];
    deps.push(...node.dependsOn.filter((d) => known.has(d)));
    edges.set(node.name, deps);
  }
  const order = new Map<string, number>();
  nodes.forEach((n, i) => order.set(n.name, order.get(n.name) ?? i));
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const reported = new Set<string>();

  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    for (const dep of edges.get(name) ?? []) {
      const s = state.get(dep);
      if (s === 'active') {
        const cycle = stack.slice(stack.indexOf(dep));
        const key = [...cycle].sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          // Reversed, the path runs in execution order; it starts at the node declared first.
          const path = [...cycle].reverse();
          const first = path.reduce((best, n, i) => (order.get(n)! < order.get(path[best]!)! ? i : best), 0);
          const rotated = [...path.slice(first), ...path.slice(0, first)];
          cycles.push([...rotated, rotated[0]!]);
        }
      } else if (s === undefined) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };

  for (const node of nodes) if (!state.has(node.name)) visit(node.name);
  return cycles;
}
