import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { createActivities } from '../../activities';
import type { RolloutPlanInput } from '../../domain/plan';
import type { RolloutResult } from '../../domain/rollout/result';
import { deleteSchedule, listSchedules } from '../../platform/schedules';
import { generateDataset } from '../../simulator';
import { getAlias } from '../../serving/registry';
import { createSimulatedMarket } from '../../simulator/market';
import type { DatasetOptions } from '../../simulator/options';
import { DuckDbWarehouse } from '../../warehouse/duckdb';
import { rollout } from '../../workflows';
import { TEST_SALT, tempDataDir, testPlan } from './rollout-fixtures';
import { connectToTestServer, createTestWorker, startTimeSkippingServer, uniqueTaskQueue } from './temporal';

/**
 * The loops' test bench, as test/loops.test.ts sets it up: simulated markets
 * in an in-memory warehouse, one rollout per plan for a champion (with a
 * client on the dev server, where the automation step's schedules live), and
 * a worker for the loops on the time-skipping server.
 */
export interface LoopBench {
  readonly env: TestWorkflowEnvironment;
  readonly warehouse: DuckDbWarehouse;
  readonly loopQueue: string;
  /** The champion each plan's rollout registered, by use case */
  readonly champions: Readonly<Record<string, string>>;
  teardown(): Promise<void>;
}

export async function startLoopBench(datasets: readonly DatasetOptions[], plans: readonly RolloutPlanInput[]): Promise<LoopBench> {
  const [env, devServer, warehouse] = await Promise.all([startTimeSkippingServer(), connectToTestServer(), DuckDbWarehouse.open(':memory:')]);
  for (const dataset of datasets) await generateDataset(warehouse, dataset);
  const rolloutQueue = uniqueTaskQueue('loop-bench-rollout');
  const loopQueue = uniqueTaskQueue('loop-bench');
  const base = { warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() };
  const workers: Worker[] = [
    await createTestWorker(env, createActivities({ ...base, temporalClient: devServer.client }), rolloutQueue),
    await createTestWorker(env, createActivities({ ...base, temporalClient: env.client }), loopQueue),
  ];
  const running = workers.map((w) => w.run());
  const champions: Record<string, string> = {};
  // One at a time: the time-skipping server skips time for whichever result is awaited.
  for (const plan of plans) {
    const result: RolloutResult = await env.client.workflow.execute(rollout, { taskQueue: rolloutQueue, workflowId: `rollout-${plan.useCase}-1`, args: [plan] });
    const champion = await getAlias(warehouse, plan.useCase, 'champion');
    if (result.status !== 'completed' || !champion) throw new Error(`rollout of ${plan.useCase} ended ${result.status} with champion ${champion ?? 'none'}: ${JSON.stringify(result.failure ?? result.steps.at(-1))}`);
    champions[plan.useCase] = champion;
  }
  const teardown = async () => {
    for (const w of workers) w.shutdown();
    await Promise.allSettled(running);
    for (const plan of plans) for (const s of await listSchedules(devServer.client, `aimo-${plan.useCase}-`)) await deleteSchedule(devServer.client, s.scheduleId);
    await warehouse.close();
    await devServer.teardown();
    await env.teardown();
  };
  return { env, warehouse, loopQueue, champions, teardown };
}

/** A plan with week-long model windows on a schema of its own, as test/loops.test.ts uses them. */
export function loopPlan(useCase: string, schema: string, windows: { asOf: string; featureDays?: number; labelDays?: number }, overrides: Partial<RolloutPlanInput> = {}): RolloutPlanInput {
  const plan = testPlan({ useCase, windows: { featureDays: 7, labelDays: 7, ...windows } });
  // Week-long windows leave small segment groups, so their AUCs spread more than the demo's limit allows.
  return { ...plan, sources: { schema }, guardrails: { ...plan.guardrails, maxFairnessGap: 0.25 }, automation: { ...plan.automation, alertRoutes: [{ kind: 'log' }] }, ...overrides };
}

/** The application failure inside a failed workflow: activity failures wrap the one that carries the type. */
export function failureCause(error: unknown): Error & { type?: string; nonRetryable?: boolean } {
  if (!(error instanceof WorkflowFailedError)) throw new Error(`expected a failed workflow, got ${String(error)}`);
  let cause = error.cause as (Error & { type?: string; nonRetryable?: boolean; cause?: Error }) | undefined;
  while (cause && !cause.type && cause.cause) cause = cause.cause as typeof cause;
  return cause!;
}
