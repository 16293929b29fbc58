import { assertValidDag, dagProblems, topologicalLevels, topologicalOrder, type DagNode } from '../domain/dag';
import { runTable, type RolloutContext } from '../domain/rollout/context';
import { sourceTable } from '../domain/propensity/sources';
import { buildModelSql, PROPENSITY_MODELS } from '../pipelines/propensity/models';
import { DuckDbDialect, SnowflakeDialect } from '../warehouse/dialect';
import { parsedPlan, testPlan } from './support/rollout-fixtures';

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
    const levels = topologicalLevels(PROPENSITY_MODELS.map((m) => ({ name: m.name, dependsOn: [...m.inputs] })));
    expect(levels).toEqual([['stg_users'], ['stg_sessions', 'stg_events', 'stg_orders'], ['features']]);
  });

  it.each([['DuckDB', new DuckDbDialect()], ['Snowflake', new SnowflakeDialect('AIMO', 'PUBLIC')]] as const)(
    'the propensity graph is the one its SQL runs (%s): each model reads exactly the models and sources it declares',
    (_name, d) => {
      const ctx: RolloutContext = { workflowId: 'wf', useCase: 'graph-check', tablePrefix: 'graph_check_0' };
      const plan = parsedPlan(testPlan());
      const allModels = PROPENSITY_MODELS.map((m) => m.name);
      const allSources = ['users', 'identities', 'consent', 'sessions', 'events', 'orders', 'spend'] as const;
      for (const m of PROPENSITY_MODELS) {
        const { select } = buildModelSql(d, ctx, plan, m.name, 'salt');
        const readsModels = allModels.filter((other) => select.includes(d.table(runTable(ctx, other))));
        const readsSources = allSources.filter((s) => select.includes(d.table(sourceTable(plan, s))));
        expect({ model: m.name, inputs: readsModels.sort(), sources: readsSources.sort() }).toEqual({ model: m.name, inputs: [...m.inputs].sort(), sources: [...m.sources].sort() });
      }
    },
  );

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
