import { readFileSync } from 'node:fs';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { statusQuery } from '../domain/rollout/definitions';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import { createSimulatedMarket } from '../simulator/market';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { rollout } from '../workflows';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';

/**
 * A rollout cancelled while it waits at its approval gate ends `cancelled`,
 * not `failed`: its audit log and report say where it stopped, written in a
 * scope the cancellation does not reach, and the cancellation stays the error.
 */
describe('a cancelled rollout', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  const useCase = 'cx-cancel';

  beforeAll(async () => {
    [env, warehouse] = await Promise.all([connectToTestServer(), seededWarehouse(5_000)]);
  });

  afterAll(async () => {
    for (const s of await listSchedules(env.client, `aimo-${useCase}-`)) await deleteSchedule(env.client, s.scheduleId);
    await warehouse?.close();
    await env?.teardown();
  });

  it('records where it stopped, writes its report and fails as cancelled', async () => {
    const dataDir = tempDataDir();
    const taskQueue = uniqueTaskQueue('cancel');
    const worker = await createTestWorker(env, createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir, temporalClient: env.client }), taskQueue);
    const plan = testPlan({ useCase, approval: { beforeExperiment: true, timeout: '7 days', onTimeout: 'reject' }, guardrails: { ...testPlan().guardrails, minAuc: 0.5, maxFairnessGap: 1 } });
    const workflowId = `rollout-${useCase}-${taskQueue}`;
    const error = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId, args: [plan] });
      const until = Date.now() + 240_000;
      while ((await handle.query(statusQuery)).state !== 'waiting-approval') {
        if (Date.now() > until) throw new Error(`never reached the gate: ${JSON.stringify(await handle.query(statusQuery))}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      await handle.cancel();
      return handle.result().catch((e: unknown) => e);
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const handle = env.client.workflow.getHandle(workflowId);
    expect((await handle.describe()).status.name).toBe('CANCELLED');

    const audit = await warehouse.query<{ decision: string; reason: string }>(`SELECT decision, reason FROM aimo.audit_log WHERE workflow_id = @id ORDER BY seq`, { id: workflowId });
    expect(audit.at(-1)).toEqual({ decision: 'cancelled', reason: 'cancelled while waiting for approval at the experiment gate' });
    const report = readFileSync(`${dataDir}/reports/${workflowId}.md`, 'utf8');
    expect(report).toContain('- Status: **cancelled**');
    expect(report).toContain('Cancelled while waiting for approval at the experiment gate');
  }, 300_000);
});
