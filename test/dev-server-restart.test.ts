import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createActivities } from '../activities';
import { AIMO_SEARCH_ATTRIBUTES, statusQuery } from '../domain/rollout/definitions';
import type { RolloutResult } from '../domain/rollout/result';
import { resolveTemporalBinary } from '../platform/temporal-binaries';
import { createSimulatedMarket } from '../simulator/market';
import { DuckDbWarehouse } from '../warehouse/duckdb';
import { rollout } from '../workflows';
import { createAimoWorker } from '../workers/create-worker';
import { TEST_SALT, tempDataDir } from './support/rollout-fixtures';
import { lossesAndDuplicates, rounded, seedWarehouseFile, shortRolloutPlan, tableFigures } from './support/run-figures';
import { freePort, killAndWait, listening } from './support/processes';
import { uniqueTaskQueue } from './support/temporal';

/**
 * reliability: the Temporal dev server SIGKILLed in the middle of a rollout
 * and started again on its SQLite file: the worker reconnects by itself, the
 * rollout goes on where the history says it was, and it ends as a rollout
 * on a server that stayed up.
 */
describe('reliability: a dev server killed and restarted on its history file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aimo-server-'));
  const seeded = join(dir, 'seeded.duckdb');
  const dbFile = join(dir, 'temporal.sqlite');
  const cli = resolveTemporalBinary('cli', { projectRoot: join(__dirname, '..') });
  const useCase = 'cx-server';
  const workflowId = `rollout-${useCase}-${uniqueTaskQueue('server')}`;
  const plan = shortRolloutPlan(useCase);
  let port: number;
  let server: ChildProcess | undefined;

  beforeAll(async () => {
    port = await freePort();
    await seedWarehouseFile(seeded, 10_000);
  }, 300_000);

  afterAll(async () => {
    if (server) await killAndWait(server);
  });

  async function startServer(): Promise<ChildProcess> {
    if (cli.executable.type !== 'existing-path') throw new Error('the Temporal CLI must be on disk for this test');
    const attributes = AIMO_SEARCH_ATTRIBUTES.flatMap((a) => ['--search-attribute', `${a.name}=Keyword`]);
    const child = spawn(cli.executable.path, ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port), '--db-filename', dbFile, '--log-level', 'error', ...attributes], { stdio: 'ignore' });
    for (let i = 0; i < 300 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 100));
    return child;
  }

  it('goes on after the restart and ends with the tables of an uninterrupted run', async () => {
    server = await startServer();
    const address = `127.0.0.1:${port}`;
    const run = async (name: string, killDuring?: 'data-path') => {
      const file = join(dir, `${name}.duckdb`);
      copyFileSync(seeded, file);
      const warehouse = await DuckDbWarehouse.open(file);
      const client = new Client({ connection: await Connection.connect({ address }) });
      const taskQueue = uniqueTaskQueue(`server-${name}`);
      const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: client });
      const worker = await createAimoWorker({ connection: await NativeConnection.connect({ address }), namespace: 'default', taskQueue, activities, workflowBundle: { codePath: process.env['AIMO_TEST_WORKFLOW_BUNDLE']! } });
      try {
        const result = await worker.runUntil(async () => {
          const handle = await client.workflow.start(rollout, { taskQueue, workflowId, args: [plan] });
          if (!killDuring) return handle.result();
          while ((await handle.query(statusQuery)).currentStep !== killDuring) await new Promise((r) => setTimeout(r, 100));
          await killAndWait(server!);
          server = await startServer();
          // A client made before the restart reconnects on its next call; the worker's polls already do.
          const after = new Client({ connection: await Connection.connect({ address }) });
          return (await after.workflow.getHandle(workflowId).result()) as RolloutResult;
        });
        return { result, file };
      } finally {
        await warehouse.close();
      }
    };
    const clean = await run('clean');
    const restarted = await run('restarted', 'data-path');
    const [cleanTables, restartedTables] = [await tableFigures(clean.file), await tableFigures(restarted.file)];
    const { lost, duplicates } = lossesAndDuplicates(cleanTables, restartedTables);
    console.log(`reliability: dev server SIGKILL and restart during data-path: 1 run, ${restarted.result.status === 'completed' ? 1 : 0} recovered, ${lost} rows lost, ${duplicates} duplicate keys`);
    expect(restarted.result.status).toBe('completed');
    expect(restartedTables).toEqual(cleanTables);
    expect({ lost, duplicates }).toEqual({ lost: 0, duplicates: 0 });
    expect(rounded(restarted.result.model!.metrics)).toEqual(rounded(clean.result.model!.metrics));
    expect(rounded(restarted.result.experiment!.effect)).toEqual(rounded(clean.result.experiment!.effect));
  }, 600_000);
});
