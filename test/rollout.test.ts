import { existsSync, readFileSync } from 'node:fs';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { RolloutResult } from '../domain/rollout/result';
import { listSchedules, deleteSchedule } from '../platform/schedules';
import { getAlias } from '../serving/registry';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { rollout } from '../workflows';
import { approvalUpdate, statusQuery } from '../domain/rollout/definitions';
import { recordHistory } from './support/histories';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, createTestWorker, startTimeSkippingServer, uniqueTaskQueue } from './support/temporal';
import { createSimulatedMarket } from '../simulator/market';

/**
 * The rollout on the time-skipping server: 14-day experiments finish in
 * seconds. Schedules are not implemented by the time-skipping server, so the
 * automation step's Temporal client points at the shared dev server, where the
 * created schedules are then checked.
 */
describe('rollout workflow', () => {
  let env: TestWorkflowEnvironment;
  let devServer: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let dataDir: string;

  beforeAll(async () => {
    [env, devServer, warehouse] = await Promise.all([startTimeSkippingServer(), connectToTestServer(), seededWarehouse()]);
    dataDir = tempDataDir();
  });

  afterAll(async () => {
    for (const s of await listSchedules(devServer.client, 'aimo-rt-')) await deleteSchedule(devServer.client, s.scheduleId);
    await warehouse?.close();
    await devServer?.teardown();
    await env?.teardown();
  });

  const activities = () => createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir, temporalClient: devServer.client });

  async function run<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = uniqueTaskQueue('rollout');
    const worker = await createTestWorker(env, activities(), taskQueue);
    return worker.runUntil(fn(taskQueue));
  }

  it('runs all eight steps with a 14-day experiment, finds the planted truth and scales out to a second market', async () => {
    const plan = testPlan({ useCase: 'rt-full', scale: { targets: [{ market: 'FR' }], maxConcurrent: 1 } });
    const result: RolloutResult = await run((taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rt-full-1', args: [plan] }),
    );
    await recordHistory(env.client, 'rollout-rt-full-1', 'rollout-full');
    expect(result.status).toBe('completed');
    expect(result.steps.map((s) => s.step)).toEqual(['kpi', 'inventory', 'data-path', 'baseline-model', 'guardrails', 'experiment', 'automation', 'scale']);
    // The Result opens with the readout; the fields histories and scripts rely on follow it.
    expect(Object.keys(result).slice(0, 4)).toEqual(['readout', 'useCase', 'workflowId', 'plan']);
    expect(result.readout!.decision).toBe(result.experiment!.ship ? 'ship' : 'no ship');
    expect(result.readout!.goal.verdict).not.toBe('not measured');
    expect(result.readout!.report).toBe(result.reportPath);

    expect(result.kpi!.baseline).toBeGreaterThan(0);
    expect(result.kpi!.target).toBeCloseTo(result.kpi!.baseline! * 0.85, 6);

    // The model can't beat the oracle that knows each user's true propensity, but it must learn most of it.
    const [truth] = await warehouse.query<{ auc: number }>(oracleAucSql(warehouse.dialect.table(result.model!.featuresTable)));
    expect(result.model!.metrics.auc).toBeGreaterThan(0.6);
    expect(result.model!.metrics.auc).toBeLessThanOrEqual(truth!.auc + 0.02);

    const [planted] = await warehouse.query<{ value: number }>(`SELECT value FROM raw.truth_effect WHERE metric = 'conversion_uplift_absolute'`);
    const effect = result.experiment!.effect;
    expect(effect.ciLow).toBeLessThanOrEqual(planted!.value);
    expect(effect.ciHigh).toBeGreaterThanOrEqual(planted!.value);
    expect(result.experiment!.srm.flagged).toBe(false);

    const schedules = await listSchedules(devServer.client, 'aimo-rt-full-');
    expect(schedules.map((s) => s.scheduleId).sort()).toEqual([
      'aimo-rt-full-drift',
      'aimo-rt-full-jumps',
      'aimo-rt-full-paid-search-fr-drift',
      'aimo-rt-full-paid-search-fr-jumps',
      'aimo-rt-full-paid-search-fr-retention',
      'aimo-rt-full-paid-search-fr-retrain',
      'aimo-rt-full-retention',
      'aimo-rt-full-retrain',
    ]);
    const retentionSchedule = await devServer.client.schedule.getHandle('aimo-rt-full-retention').describe();
    expect(retentionSchedule.action).toMatchObject({
      workflowType: 'retention',
      workflowId: 'retention-rt-full',
      args: [{ useCase: 'rt-full', trigger: { kind: 'schedule', scheduleId: 'aimo-rt-full-retention' } }],
    });
    const retrainSchedule = await devServer.client.schedule.getHandle('aimo-rt-full-retrain').describe();
    expect(retrainSchedule.policies.overlap).toBe('SKIP');
    expect(retrainSchedule.action).toMatchObject({
      workflowType: 'retrain',
      workflowId: 'retrain-rt-full',
      args: [{ useCase: 'rt-full', trigger: { kind: 'schedule', scheduleId: 'aimo-rt-full-retrain' } }],
    });
    expect(await getAlias(warehouse, 'rt-full', 'champion')).toBe(result.model!.versionId);

    // The second market is a use case of its own: its own model and champion, the first market's untouched.
    expect(result.scale).toEqual([
      { channel: 'paid_search', market: 'FR', workflowId: 'rollout-rt-full-1-scale-paid_search-fr', status: 'completed', summary: expect.any(String) },
    ]);
    const frChampion = await getAlias(warehouse, 'rt-full-paid-search-fr', 'champion');
    expect(frChampion).toBeDefined();
    expect(frChampion).not.toBe(result.model!.versionId);

    const report = readFileSync(result.reportPath!, 'utf8');
    expect(report).toContain('## Experiment');
    expect(existsSync(result.reportPath!.replace(/\.md$/, '.json'))).toBe(true);
    const audit = await warehouse.query<{ decision: string }>(`SELECT decision FROM aimo.audit_log WHERE workflow_id = 'rollout-rt-full-1' ORDER BY seq`);
    expect(audit.map((a) => a.decision)).toEqual(['started', 'passed', 'started', result.experiment!.ship ? 'ship' : 'no-ship', 'promoted', 'completed']);
  });

  it('waits at an approval gate and goes on when a person approves by Update', async () => {
    const plan = testPlan({ useCase: 'rt-approve', approval: { beforeExperiment: true, timeout: '3 days', onTimeout: 'reject' } });
    const result = await run(async (taskQueue) => {
      const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId: 'rollout-rt-approve-1', args: [plan] });
      await waitFor(async () => (await handle.query(statusQuery)).state === 'waiting-approval');
      expect(await updateError(handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: '', reason: 'x' } as never] }))).toMatch(/by: say who decides/);
      const accepted = await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'ana@growth', reason: 'model and data look right' }] });
      expect(accepted).toEqual({ accepted: true, gate: 'experiment' });
      return handle.result();
    });
    await recordHistory(env.client, 'rollout-rt-approve-1', 'rollout-approved');
    expect(result.status).toBe('completed');
    const audit = await warehouse.query<{ decision: string; actor: string }>(
      `SELECT decision, actor FROM aimo.audit_log WHERE workflow_id = 'rollout-rt-approve-1' AND step = 'experiment' ORDER BY seq`,
    );
    expect(audit[0]).toEqual({ decision: 'approve', actor: 'ana@growth' });
  });

  it('stops as rejected when a person rejects, and refuses approvals when nothing waits', async () => {
    const plan = testPlan({ useCase: 'rt-reject', approval: { beforeExperiment: true, timeout: '3 days', onTimeout: 'approve' } });
    const result = await run(async (taskQueue) => {
      const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId: 'rollout-rt-reject-1', args: [plan] });
      expect(await updateError(handle.executeUpdate(approvalUpdate, { args: [{ decision: 'approve', by: 'early', reason: 'too soon' }] }))).toMatch(/not waiting/);
      await waitFor(async () => (await handle.query(statusQuery)).state === 'waiting-approval');
      await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'reject', by: 'legal', reason: 'consent text under review' }] });
      return handle.result();
    });
    await recordHistory(env.client, 'rollout-rt-reject-1', 'rollout-rejected');
    expect(result.status).toBe('rejected');
    expect(result.failure).toMatch(/legal: consent text under review/);
    expect(result.experiment).toBeUndefined();
  });

  it('fails an invalid plan from the UI at once, naming every field', async () => {
    const fromUi = { useCase: 'Bad Name', kpi: { metric: 'cpa', channel: 'paid_search', market: 'de', targetChange: -0.1, deadline: '2026-06-30' }, windows: { asOf: 'yesterday' } };
    const error = await run((taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rt-invalid-1', args: [fromUi] }).catch((e: unknown) => e),
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as Error & { type?: string; nonRetryable?: boolean };
    expect(cause.type).toBe('InvalidPlan');
    expect(cause.nonRetryable).toBe(true);
    for (const field of ['useCase:', 'kpi.metric:', 'kpi.market:', 'windows.asOf:']) expect(cause.message).toContain(field);
  });

  it('stops on a blocking data gap with a readable report', async () => {
    const plan = testPlan({ useCase: 'rt-gap', sources: { schema: 'raw', orders: 'orders_missing' } as never });
    const error = await run((taskQueue) =>
      env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rt-gap-1', args: [plan] }).catch((e: unknown) => e),
    );
    const cause = (error as WorkflowFailedError).cause as Error & { type?: string };
    expect(cause.type).toBe('BlockingDataGap');
    expect(cause.message).toMatch(/orders: table raw\.orders_missing does not exist/);
    const report = readFileSync(`${dataDir}/reports/rollout-rt-gap-1.md`, 'utf8');
    expect(report).toMatch(/Blocking data gaps/);
    const [row] = await warehouse.query<{ n: number }>(`SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name LIKE 'rt_gap_%'`);
    expect(row!.n).toBe(0);
  });
});

function oracleAucSql(featuresTable: string): string {
  // AUC of the simulator's true propensity on the same holdout users and labels (ties averaged).
  return `
    WITH h AS (
      SELECT f.label AS y, t.propensity AS p FROM ${featuresTable} f
      JOIN raw.truth_propensity t ON t.user_id = f.user_id AND t.window_days = 14
      WHERE f.split = 'holdout'
    ), r AS (SELECT y, AVG(rn) OVER (PARTITION BY p) AS rank FROM (SELECT y, p, ROW_NUMBER() OVER (ORDER BY p) AS rn FROM h) x)
    SELECT (SUM(CASE WHEN y = 1 THEN rank ELSE 0 END) - SUM(y) * (SUM(y) + 1) / 2.0) / (SUM(y) * (COUNT(*) - SUM(y))) AS auc FROM r`;
}

/** The validator's message of a refused Update. */
async function updateError(update: Promise<unknown>): Promise<string> {
  try {
    await update;
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return `${e.message}: ${e.cause?.message ?? ''}`;
  }
  throw new Error('the update was accepted');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
