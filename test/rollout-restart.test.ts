import { createSimulatedMarket } from '../simulator/market';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { rollout } from '../workflows';
import { statusQuery } from '../domain/rollout/definitions';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';

/** A rollout whose worker goes away mid-step is finished by another worker, with the result of an uninterrupted run. */
describe('rollout across a worker restart', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    [env, warehouse] = await Promise.all([connectToTestServer(), seededWarehouse()]);
  });

  afterAll(async () => {
    for (const s of await listSchedules(env.client, 'aimo-rs-')) await deleteSchedule(env.client, s.scheduleId);
    await warehouse?.close();
    await env?.teardown();
  });

  it('completes with the same numbers as a clean run', async () => {
    const plan = testPlan({
      useCase: 'rs-restart',
      experiment: { duration: '2 seconds', checkEvery: '1 second', startDate: '2026-04-01', measureDays: 14, outcomeSource: 'simulator' },
    });
    const deps = { warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: env.client };
    const taskQueue = uniqueTaskQueue('restart');
    const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId: `rollout-rs-restart-${taskQueue}`, args: [plan] });
    const first = await createTestWorker(env, createActivities(deps), taskQueue);
    // The first worker goes away once the data path has begun. Any later step also counts: on a busy
    // machine a poll can miss the data-path window, and waiting for it would then never end.
    await first.runUntil(async () => {
      const deadline = Date.now() + 60_000;
      for (let step = (await handle.query(statusQuery)).currentStep; step === 'kpi' || step === 'inventory'; step = (await handle.query(statusQuery)).currentStep) {
        if (Date.now() > deadline) throw new Error(`the rollout is still at ${step} after 60 s`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    const second = await createTestWorker(env, createActivities(deps), taskQueue);
    const interrupted = await second.runUntil(handle.result());

    const cleanQueue = uniqueTaskQueue('clean');
    const clean = await (await createTestWorker(env, createActivities(deps), cleanQueue)).runUntil(
      env.client.workflow.execute(rollout, { taskQueue: cleanQueue, workflowId: `rollout-rs-restart-${cleanQueue}`, args: [plan] }),
    );
    expect(interrupted.status).toBe('completed');
    expect(interrupted.kpi).toEqual(clean.kpi);
    expect(interrupted.dataPath!.models.map((m) => m.rows)).toEqual(clean.dataPath!.models.map((m) => m.rows));
    // Equal up to the order in which the warehouse sums doubles in parallel.
    for (const [feature, value] of Object.entries(clean.model!.model.coefficients)) {
      expect([feature, interrupted.model!.model.coefficients[feature]! - value]).toEqual([feature, expect.closeTo(0, 9)]);
    }
    expect(interrupted.model!.metrics.auc).toBeCloseTo(clean.model!.metrics.auc, 9);
  });
});
