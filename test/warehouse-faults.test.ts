import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { RolloutResult } from '../domain/rollout/result';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import { createSimulatedMarket } from '../simulator/market';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import type { Warehouse } from '../warehouse/warehouse';
import { rollout } from '../workflows';
import { FaultyWarehouse } from './support/faulty-warehouse';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { lossesAndDuplicates, rounded, seedWarehouseFile, shortRolloutPlan, tableFigures } from './support/run-figures';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';

/**
 * reliability: a rollout on a warehouse where 10 % of the writes fail — half
 * before the statement runs, half after it committed — ends with the same
 * tables, rows and numbers as a run on a warehouse that never fails: every
 * activity is retried and every write is idempotent.
 */
describe('reliability: warehouse faults before and after commit', () => {
  let env: TestWorkflowEnvironment;
  const dir = mkdtempSync(join(tmpdir(), 'aimo-faults-'));
  const seeded = join(dir, 'seeded.duckdb');
  const useCase = 'cx-faults';
  const workflowId = `rollout-${useCase}-${uniqueTaskQueue('faults')}`;
  const plan = shortRolloutPlan(useCase);

  beforeAll(async () => {
    env = await connectToTestServer();
    await seedWarehouseFile(seeded, 10_000);
  }, 300_000);

  afterAll(async () => {
    for (const s of await listSchedules(env.client, `aimo-${useCase}-`)) await deleteSchedule(env.client, s.scheduleId);
    await env?.teardown();
  });

  /** One rollout under the shared workflow id, on its own copy of the seeded warehouse. */
  async function run(name: string, wrap: (wh: Warehouse) => Warehouse): Promise<{ result: RolloutResult; file: string; warehouse: Warehouse }> {
    const file = join(dir, `${name}.duckdb`);
    copyFileSync(seeded, file);
    const opened = await DuckDbWarehouse.open(file);
    const warehouse = wrap(opened);
    try {
      const taskQueue = uniqueTaskQueue(`faults-${name}`);
      const activities = createActivities({ warehouse, simulator: createSimulatedMarket(opened, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: env.client });
      const worker = await createTestWorker(env, activities, taskQueue);
      const result = await worker.runUntil(env.client.workflow.execute(rollout, { taskQueue, workflowId, args: [plan] }));
      return { result, file, warehouse };
    } finally {
      await opened.close();
    }
  }

  it('ends as a run without faults: same tables and rows, no duplicate keys, the same numbers', async () => {
    const clean = await run('clean', (wh) => wh);
    const faulty = await run('faulty', (wh) => new FaultyWarehouse(wh, 0.1, 20261202));
    const { faults } = faulty.warehouse as FaultyWarehouse;
    const [cleanTables, faultyTables] = [await tableFigures(clean.file), await tableFigures(faulty.file)];
    const { lost, duplicates } = lossesAndDuplicates(cleanTables, faultyTables);
    console.log(`reliability: warehouse faults: 1 run, ${faulty.result.status === 'completed' ? 1 : 0} recovered, ${faults.before} faults before and ${faults.after} after commit, ${lost} rows lost, ${duplicates} duplicate keys`);

    expect(faults.before).toBeGreaterThan(0);
    expect(faults.after).toBeGreaterThan(0);
    expect(faulty.result.status).toBe('completed');
    expect(faultyTables).toEqual(cleanTables);
    expect({ lost, duplicates }).toEqual({ lost: 0, duplicates: 0 });
    expect(rounded(faulty.result.model!.metrics)).toEqual(rounded(clean.result.model!.metrics));
    expect(rounded(faulty.result.experiment!.effect)).toEqual(rounded(clean.result.experiment!.effect));
    expect(faulty.result.steps.map((s) => [s.step, s.status])).toEqual(clean.result.steps.map((s) => [s.step, s.status]));
  }, 600_000);
});
