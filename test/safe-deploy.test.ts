import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { RolloutResult } from '../domain/rollout/result';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import { createSimulatedMarket } from '../simulator/market';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { createAimoWorker } from '../workers/create-worker';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, startTimeSkippingServer, uniqueTaskQueue } from './support/temporal';

/**
 * A release must not change what a running rollout does. The rollout fixes
 * its validated plan, defaults applied, in the history at the start; a later
 * release that changes a default (here: interim checks every 7 days instead
 * of every day) replays the running rollout's history with the recorded
 * plan, while new rollouts get the new default.
 */
describe('a changed plan default and a running rollout', () => {
  let env: TestWorkflowEnvironment;
  let devServer: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let changedRelease: string;

  beforeAll(async () => {
    [env, devServer, warehouse, { code: changedRelease }] = await Promise.all([
      startTimeSkippingServer(),
      connectToTestServer(),
      seededWarehouse(),
      bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/changed-default/workflows') }),
    ]);
  });

  afterAll(async () => {
    for (const s of await listSchedules(devServer.client, 'aimo-safe-deploy-')) await deleteSchedule(devServer.client, s.scheduleId);
    await warehouse?.close();
    await devServer?.teardown();
    await env?.teardown();
  });

  const activities = () => createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: devServer.client });
  // No checkEvery: the plan takes the default of the release that runs it.
  const plan = (useCase: string) => {
    const base = testPlan({ useCase });
    const { checkEvery: _unset, ...experiment } = base.experiment!;
    return { ...base, experiment };
  };
  const healthChecks = async (workflowId: string) => {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const checks = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'checkExperimentHealth').length;
    return { history, checks };
  };

  it('replays a rollout of this release on the changed release, with the plan it started with', async () => {
    const taskQueue = uniqueTaskQueue('safe-deploy');
    const workflowId = `rollout-safe-deploy-${taskQueue}`;
    const worker = await createTestWorker(env, activities(), taskQueue);
    const result = await worker.runUntil(env.client.workflow.execute<(p: unknown) => Promise<RolloutResult>>('rollout', { taskQueue, workflowId, args: [plan('safe-deploy-now')] }));
    expect(result.status).toBe('completed');
    const { history, checks } = await healthChecks(workflowId);
    expect(checks).toBe(14);

    await Worker.runReplayHistory({ workflowBundle: { code: changedRelease } }, history, workflowId);
  });

  it('gives new rollouts on the changed release the new default, so the replay above had a real difference to survive', async () => {
    const taskQueue = uniqueTaskQueue('safe-deploy-new');
    const workflowId = `rollout-safe-deploy-${taskQueue}`;
    const worker = await createAimoWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue, activities: activities(), workflowBundle: { code: changedRelease } });
    const result = await worker.runUntil(env.client.workflow.execute<(p: unknown) => Promise<RolloutResult>>('rollout', { taskQueue, workflowId, args: [plan('safe-deploy-later')] }));
    expect(result.status).toBe('completed');
    expect((await healthChecks(workflowId)).checks).toBe(2);
  });
});
