import { assertValidDag, dagProblems, topologicalLevels, topologicalOrder, type DagNode } from '../domain/dag';
import { PROPENSITY_MODELS } from '../domain/propensity/features';

const node = (name: string, ...dependsOn: string[]): DagNode => ({ name, dependsOn });

describe('topologicalLevels', () => {
  it('puts independent nodes in one level and keeps declaration order within it', () => {
    const levels = topologicalLevels([
      node('features', 'stg_orders', 'stg_events'),
      node('stg_events', 'stg_users'),
      node('stg_users'),
      node('stg_orders', 'stg_users'),
      node('report', 'features'),
      node('calendar'),
    ]);
    expect(levels).toEqual([['stg_users', 'calendar'], ['stg_events', 'stg_orders'], ['features'], ['report']]);
  });

  it('orders the propensity data path: staging after users, features last', () => {
    const levels = topologicalLevels(PROPENSITY_MODELS.map((m) => ({ name: m.name, dependsOn: [...m.dependsOn] })));
    expect(levels).toEqual([['stg_users'], ['stg_sessions', 'stg_events', 'stg_orders'], ['features']]);
  });

  it('every node comes after all it depends on', () => {
    const nodes = [node('d', 'b', 'c'), node('b', 'a'), node('c', 'a', 'b'), node('a'), node('e', 'a', 'd')];
    const order = topologicalOrder(nodes);
    for (const n of nodes) for (const dep of n.dependsOn) expect(order.indexOf(dep)).toBeLessThan(order.indexOf(n.name));
    expect(topologicalLevels([])).toEqual([]);
  });
});

describe('DAG validation', () => {
  it('names duplicate nodes and unknown dependencies', () => {
    const problems = dagProblems([node('a'), node('b', 'a', 'ghost'), node('a')]);
    expect(problems).toEqual([
      'duplicate node name "a": each node needs a unique name',
      'node "b" depends on unknown node "ghost": add it or fix the name',
    ]);
  });

  it('names the nodes of a cycle, in the order they would have to run', () => {
    const problems = dagProblems([node('a', 'c'), node('b', 'a'), node('c', 'b'), node('d', 'a')]);
    expect(problems).toEqual(['cycle: "a" → "b" → "c" → "a": remove one of these dependencies']);
  });

  it('reports every distinct cycle, including a node that depends on itself', () => {
    const problems = dagProblems([node('self', 'self'), node('x', 'y'), node('y', 'x'), node('ok')]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('"self" → "self"');
    expect(problems[1]).toContain('"x" → "y" → "x"');
  });

  it('throws a non-retryable InvalidDag error listing all problems', () => {
    expect(() => assertValidDag([node('a', 'b'), node('b', 'a'), node('c', 'missing')])).toThrow(
      expect.objectContaining({ type: 'InvalidDag', message: expect.stringMatching(/cycle.*"a".*"b".*unknown node "missing"|unknown node "missing".*cycle/) }),
    );
    expect(() => topologicalLevels([node('a', 'a')])).toThrow(/cycle: "a" → "a"/);
  });
});
