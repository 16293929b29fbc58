/**
 * A worker in a process of its own, for tests that kill it with SIGKILL:
 * the product's activities on a DuckDB file and the prebuilt workflow bundle.
 * Arguments: <task queue> <duckdb file> <data dir>. Prints "ready" once polling.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../../activities';
import { createLogger } from '../../platform/logger';
import { installTemporalRuntime } from '../../platform/temporal-runtime';
import { createSimulatedMarket } from '../../simulator/market';
import { DuckDbWarehouse } from '../../warehouse/duckdb';
import { createAimoWorker } from '../../workers/create-worker';
import { TEST_SALT } from './rollout-fixtures';

installTemporalRuntime(createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn', format: 'json' }));

async function main(): Promise<void> {
  const [taskQueue, file, dataDir] = process.argv.slice(2);
  const address = process.env['AIMO_TEST_TEMPORAL_ADDRESS'];
  const codePath = process.env['AIMO_TEST_WORKFLOW_BUNDLE'];
  if (!taskQueue || !file || !dataDir || !address || !codePath) throw new Error('usage: worker-process <task queue> <duckdb file> <data dir>, with the test environment set');
  const [warehouse, connection, clientConnection] = await Promise.all([DuckDbWarehouse.open(file), NativeConnection.connect({ address }), Connection.connect({ address })]);
  const temporalClient = new Client({ connection: clientConnection });
  const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir, temporalClient });
  const worker = await createAimoWorker({ connection, namespace: 'default', taskQueue, activities, workflowBundle: { codePath } });
  const running = worker.run();
  process.stdout.write('ready\n');
  await running;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
