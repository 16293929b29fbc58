import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import { seedWarehouse } from '../workflows';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import { connectToTestServer, createTestWorker, uniqueTaskQueue } from './support/temporal';
import { createSimulatedMarket } from '../simulator/market';

describe('seedWarehouse on the ephemeral Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;

  beforeAll(async () => {
    env = await connectToTestServer();
    warehouse = await DuckDbWarehouse.open(':memory:');
  });

  afterAll(async () => {
    await warehouse?.close();
    await env?.teardown();
  });

  it('seeds an empty warehouse once through the product worker factory, then leaves it alone', async () => {
    const taskQueue = uniqueTaskQueue('seed');
    const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: 'test-salt-0123456789', dataDir: '/tmp' });
    const worker = await createTestWorker(env, activities, taskQueue);
    const [first, second] = await worker.runUntil(async () => {
      const run = (id: string) =>
        env.client.workflow.execute(seedWarehouse, { taskQueue, workflowId: id, args: [{ seed: 7, users: 2000 }] });
      return [await run(`seed-${taskQueue}-1`), await run(`seed-${taskQueue}-2`)];
    });
    expect(first.seeded).toBe(true);
    expect(second.seeded).toBe(false);
    const [users] = await warehouse.query<{ n: number }>('SELECT count(*) AS n FROM raw.users');
    expect(users!.n).toBe(2000);
  });
});
