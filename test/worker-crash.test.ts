import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { statusQuery } from '../domain/rollout/definitions';
import type { RolloutResult } from '../domain/rollout/result';
import type { RolloutStep } from '../domain/rollout/status';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import { rollout } from '../workflows';
import { tempDataDir } from './support/rollout-fixtures';
import { lossesAndDuplicates, rounded, seedWarehouseFile, shortRolloutPlan, tableFigures, type TableFigures } from './support/run-figures';
import { killAndWait } from './support/processes';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';

const WORKER = join(__dirname, 'support', 'worker-process.ts');

/**
 * reliability: a worker killed with SIGKILL in the middle of a long warehouse
 * step (no graceful drain, its query cut off) is noticed by its missing
 * heartbeats, not by the step's 30-minute start-to-close timeout: the
 * attempt fails as a heartbeat timeout and a second worker process finishes
 * the rollout with the numbers of an uninterrupted run.
 */
describe('reliability: a worker killed mid-step', () => {
  let env: TestWorkflowEnvironment;
  const dir = mkdtempSync(join(tmpdir(), 'aimo-crash-'));
  const seeded = join(dir, 'seeded.duckdb');
  const useCase = 'cx-crash';

  beforeAll(async () => {
    env = await connectToTestServer();
    await seedWarehouseFile(seeded, 20_000);
  }, 300_000);

  afterAll(async () => {
    for (const s of await listSchedules(env.client, `aimo-${useCase}-`)) await deleteSchedule(env.client, s.scheduleId);
    await env?.teardown();
  });

  const plan = shortRolloutPlan(useCase);

  /** A worker process on its own copy of the seeded warehouse; resolves once it polls. */
  function startWorker(taskQueue: string, file: string): Promise<ChildProcess> {
    // Node itself runs the worker (tsx as a loader, not its CLI, which would put a process between): SIGKILL reaches the worker.
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, taskQueue, file, tempDataDir()], { env: { ...process.env, LOG_LEVEL: 'error' }, stdio: ['ignore', 'pipe', 'inherit'] });
    return new Promise((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve(child));
      child.on('exit', (code) => reject(new Error(`worker process exited with ${code} before it was ready`)));
    });
  }

  // One workflow id for both runs (one after the other), so they assign, name and write alike.
  const workflowId = `rollout-${useCase}-${uniqueTaskQueue('crash')}`;

  async function run(name: string, killDuring?: RolloutStep): Promise<{ result: RolloutResult; file: string; recoveredInMs?: number }> {
    const file = join(dir, `${name}.duckdb`);
    copyFileSync(seeded, file);
    const taskQueue = uniqueTaskQueue(`crash-${name}`);
    let worker = await startWorker(taskQueue, file);
    try {
      const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId, args: [plan] });
      let recoveredInMs: number | undefined;
      if (killDuring) {
        for (let until = Date.now() + 240_000; (await handle.query(statusQuery)).currentStep !== killDuring; await new Promise((r) => setTimeout(r, 100))) {
          if (Date.now() > until) throw new Error(`the rollout never reached ${killDuring}`);
        }
        // Inside the step's activity: its query runs, nothing has heartbeated the end of it.
        await new Promise((r) => setTimeout(r, 500));
        const killedAt = Date.now();
        // Its lock on the warehouse file goes with the process.
        await killAndWait(worker);
        worker = await startWorker(taskQueue, file);
        while ((await handle.query(statusQuery)).currentStep === killDuring) await new Promise((r) => setTimeout(r, 250));
        recoveredInMs = Date.now() - killedAt;
      }
      return { result: await handle.result(), file, ...(recoveredInMs !== undefined ? { recoveredInMs } : {}) };
    } finally {
      await killAndWait(worker);
    }
  }

  let clean: Awaited<ReturnType<typeof run>>;
  let cleanTables: TableFigures;

  beforeAll(async () => {
    clean = await run('clean');
    cleanTables = await tableFigures(clean.file);
  }, 300_000);

  // Three steps that last: two of long warehouse SQL, where the kill lands inside a running query, and the experiment's timers and activities.
  it.each(['data-path', 'baseline-model', 'experiment'] as const)('killed during %s: the cut-off attempt ends by its missing heartbeats, and the rollout ends as an uninterrupted run does', async (step) => {
    const crashed = await run(`killed-${step}`, step);
    const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const retried = events.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    for (const e of retried) {
      expect(e.activityTaskStartedEventAttributes!.lastFailure?.timeoutFailureInfo?.timeoutType).toBe(temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT);
    }
    const crashedTables = await tableFigures(crashed.file);
    const { lost, duplicates } = lossesAndDuplicates(cleanTables, crashedTables);
    console.log(`reliability: worker SIGKILL during ${step}: 1 run, ${crashed.result.status === 'completed' ? 1 : 0} recovered, ${lost} rows lost, ${duplicates} duplicate keys, ${retried.length} attempt(s) retried, recovered in ${((crashed.recoveredInMs ?? 0) / 1000).toFixed(1)} s`);

    expect(crashed.result.status).toBe('completed');
    // To 12 significant digits: DuckDB's parallel sums may add in another order.
    expect(rounded(crashed.result.model!.metrics)).toEqual(rounded(clean.result.model!.metrics));
    expect(rounded(crashed.result.model!.model)).toEqual(rounded(clean.result.model!.model));
    expect(rounded(crashed.result.experiment!.effect)).toEqual(rounded(clean.result.experiment!.effect));
    expect(crashed.result.steps.map((s) => [s.step, s.status])).toEqual(clean.result.steps.map((s) => [s.step, s.status]));
    // The same tables with the same rows: none lost, none written twice.
    expect(crashedTables).toEqual(cleanTables);
    expect({ lost, duplicates }).toEqual({ lost: 0, duplicates: 0 });
  }, 600_000);
});
