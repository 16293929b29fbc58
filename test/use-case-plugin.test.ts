import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { RolloutResult } from '../domain/rollout/result';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { createAimoWorker } from '../workers/create-worker';
import { createReachActivities } from './fixtures/reach-use-case/activities/reach';
import { seededWarehouse, TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';

/**
 * A use case is a plugin of the eight-step contract: the fixture in
 * test/fixtures/reach-use-case has its own domain, activities and workflow
 * folders, and joins the product's rollout with one registration line in its
 * workflow bundle. Nothing in the product knows it.
 */
describe('a use case added as its own folders and one registration line', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let code: string;

  beforeAll(async () => {
    [env, warehouse, { code }] = await Promise.all([
      connectToTestServer(),
      seededWarehouse(3000, 11),
      bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/reach-use-case/workflows') }),
    ]);
  });

  const startWorker = (taskQueue: string) => {
    const deps = { warehouse, hashSalt: TEST_SALT, dataDir: tempDataDir() };
    return createAimoWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities: { ...createActivities(deps), ...createReachActivities(deps) },
      workflowBundle: { code },
    });
  };

  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  const plan = { kind: 'reach', useCase: 'newsletter-reach', kpi: { metric: 'reach', channel: 'email', market: 'DE', targetChange: 0.1, deadline: '2027-06-30' }, sources: { schema: 'raw', consent: 'consent', users: 'users' } };

  it('runs through the product rollout: its own KPI step, every other step skipped with its reason, audit and report', async () => {
    const taskQueue = uniqueTaskQueue('reach');
    const worker = await startWorker(taskQueue);
    const workflowId = `rollout-newsletter-reach-${taskQueue}`;
    const result = await worker.runUntil(env.client.workflow.execute<(input: unknown) => Promise<RolloutResult>>('rollout', { taskQueue, workflowId, args: [plan] }));

    const [expected] = await warehouse.query<{ reach: number }>(
      `SELECT COUNT(*) AS reach FROM raw.users u WHERE u.market = 'DE' AND (
         SELECT c.granted FROM raw.consent c WHERE c.user_id = u.user_id AND c.purpose = 'marketing' ORDER BY c.updated_at DESC LIMIT 1)`,
    );
    expect(result.status).toBe('completed');
    expect(result.steps.map((s) => `${s.step}:${s.status}`)).toEqual([
      'kpi:passed', 'inventory:skipped', 'data-path:skipped', 'baseline-model:skipped', 'guardrails:skipped', 'experiment:skipped', 'automation:skipped', 'scale:skipped',
    ]);
    expect(result.steps[0]!.numbers['reach']).toBe(Number(expected!.reach));
    expect(Number(expected!.reach)).toBeGreaterThan(0);
    expect(result.steps.find((s) => s.step === 'experiment')!.summary).toBe('reach is a count: there is nothing to train, test or automate');

    const audit = await warehouse.query<{ seq: number; step: string; decision: string }>(
      `SELECT seq, step, decision FROM aimo.audit_log WHERE workflow_id = @id ORDER BY seq`,
      { id: workflowId },
    );
    expect(audit.map((a) => `${a.step}:${a.decision}`)).toEqual(['rollout:started', 'kpi:measured', 'rollout:completed']);
    const report = readFileSync(result.reportPath!, 'utf8');
    expect(report).toContain('| scale | skipped | one market per plan |');
  });

  it('refuses a malformed plan of the new kind with its own check, naming the field', async () => {
    const taskQueue = uniqueTaskQueue('reach-bad');
    const worker = await startWorker(taskQueue);
    const bad = { ...plan, kpi: { ...plan.kpi, market: 'Germany' } };
    await expect(
      worker.runUntil(env.client.workflow.execute('rollout', { taskQueue, workflowId: `rollout-bad-${taskQueue}`, args: [bad] })),
    ).rejects.toMatchObject({ cause: { type: 'InvalidPlan', message: expect.stringContaining('kpi.market') } });
  });
});
