import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { readFileSync } from 'node:fs';
import { createActivities } from '../activities';
import type { RolloutResult } from '../domain/rollout/result';
import { approvalUpdate, statusQuery } from '../domain/rollout/definitions';
import type { RolloutPlanInput } from '../domain/plan';
import { createSimulatedMarket } from '../simulator/market';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { rollout } from '../workflows';
import { recordHistory } from './support/histories';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, startTimeSkippingServer, createTestWorker, uniqueTaskQueue } from './support/temporal';
import { deleteSchedule, listSchedules } from '../platform/schedules';

/**
 * The designed experiment step end to end, on the time-skipping server and
 * the simulated market: a guardrail that stops a winning test, a geo test,
 * an underpowered plan stopped or gated, a sequential test stopping early.
 * A test that ships goes on to automation, whose schedules are created on
 * the shared dev server (the time-skipping server has none) and removed.
 */
describe('experiment rollouts', () => {
  let env: TestWorkflowEnvironment;
  let devServer: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let dataDir: string;

  beforeAll(async () => {
    [env, devServer, warehouse] = await Promise.all([startTimeSkippingServer(), connectToTestServer(), seededWarehouse()]);
    dataDir = tempDataDir();
  });

  afterAll(async () => {
    for (const s of await listSchedules(devServer.client, 'aimo-rt-exp-')) await deleteSchedule(devServer.client, s.scheduleId);
    await devServer?.teardown();
    await warehouse?.close();
    await env?.teardown();
  });

  const activities = (on: DuckDbWarehouse) => createActivities({ warehouse: on, simulator: createSimulatedMarket(on, { seed: 42 }), hashSalt: TEST_SALT, dataDir, temporalClient: devServer.client });

  async function run<T>(fn: (taskQueue: string) => Promise<T>, on: DuckDbWarehouse = warehouse): Promise<T> {
    const taskQueue = uniqueTaskQueue('experiment');
    const worker = await createTestWorker(env, activities(on), taskQueue);
    return worker.runUntil(fn(taskQueue));
  }

  const demo = testPlan();
  const plan = (useCase: string, experiment: Record<string, unknown>, kpi: Record<string, unknown> = {}): RolloutPlanInput => ({
    ...demo,
    useCase,
    kpi: { ...demo.kpi, ...kpi } as RolloutPlanInput['kpi'],
    experiment: { ...demo.experiment, ...experiment },
  });

  const planted = async (experimentId: string, on: DuckDbWarehouse = warehouse) =>
    (await on.query<{ uplift_absolute: number }>(`SELECT uplift_absolute FROM raw.truth_experiments WHERE experiment_id = @id`, { id: experimentId }))[0]!.uplift_absolute;

  it('a treatment that lifts conversion but costs more margin than it brings ends no-ship, naming the guardrail', async () => {
    const input = plan('rt-exp-guard', { costPerTreatedUser: 5, guardrailTolerance: 0.05 }, { guardrailMetrics: ['conversion_rate', 'contribution_margin'] });
    const result: RolloutResult = await run((taskQueue) => env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rt-exp-guard-1', args: [input] }));
    await recordHistory(env.client, 'rollout-rt-exp-guard-1', 'rollout-guardrail-no-ship');
    const e = result.experiment!;
    expect(result.status).toBe('completed');
    expect(e.decision!.primary.ciLow).toBeGreaterThan(0);
    const margin = e.guardrails!.find((g) => g.metric === 'contribution_margin')!;
    expect(margin.failed).toBe(true);
    expect(margin.ciHigh!).toBeLessThan(margin.threshold!);
    expect(e.guardrails!.find((g) => g.metric === 'conversion_rate')!.failed).toBe(false);
    expect(e.ship).toBe(false);
    expect(e.decision!.reasons.join(' ')).toMatch(/guardrail contribution_margin failed/);
    expect(result.steps.find((s) => s.step === 'experiment')!.summary).toMatch(/guardrail failed: contribution_margin/);
    const audit = await warehouse.query<{ decision: string; reason: string }>(`SELECT decision, reason FROM aimo.audit_log WHERE workflow_id = 'rollout-rt-exp-guard-1' AND step = 'experiment' ORDER BY seq`);
    expect(audit.map((a) => a.decision)).toEqual(['started', 'no-ship']);
    expect(audit[0]!.reason).toMatch(/^power \d+\.\d % to detect/);
    expect(audit.at(-1)!.reason).toMatch(/contribution_margin/);
    const report = readFileSync(result.reportPath!, 'utf8');
    expect(report).toMatch(/\| contribution_margin \|.*\| FAIL \|/);
  });

  it('a geo rollout assigns matched region pairs, and its randomisation interval covers the planted geo effect', async () => {
    // A market of its own: the other tests' experiments add orders that would fall into this test's pre-period.
    const market = await seededWarehouse();
    try {
      const input = plan('rt-exp-geo', { design: 'geo', startDate: '2026-05-01' });
      const result: RolloutResult = await run((taskQueue) => env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rt-exp-geo-1', args: [input] }), market);
      await recordHistory(env.client, 'rollout-rt-exp-geo-1', 'rollout-geo');
      const e = result.experiment!;
      expect(result.status).toBe('completed');
      expect(e.geo!.pairs.length).toBeGreaterThanOrEqual(6);
      expect(e.decision!.primary.method).toBe('geo-randomisation');
      const truth = await planted(e.experimentId, market);
      process.stdout.write(`[experiment rollout] geo: effect ${e.geo!.effect.estimate.toFixed(4)} (CI ${e.geo!.effect.ciLow.toFixed(4)} to ${e.geo!.effect.ciHigh.toFixed(4)}), planted ${truth}, ${e.geo!.regions} regions\n`);
      // The market and the assignment are seeded, so this run is one fixed draw of a 95 % event; the
      // simulation study (experiment-simulation.test.ts) measures the rate over 600 geo tests.
      expect(truth).toBeGreaterThan(0);
      expect(e.geo!.effect.ciLow).toBeLessThanOrEqual(truth);
      expect(e.geo!.effect.ciHigh).toBeGreaterThanOrEqual(truth);
      expect(e.geo!.users.treatment + e.geo!.users.control).toBe(e.arms.control.users + e.arms.treatment.users);
    } finally {
      await market.close();
    }
  });

  it('an underpowered plan is stopped with its power and MDE', async () => {
    const input = plan('rt-exp-weak', { minimumDetectableEffect: 0.02, onUnderpowered: 'stop' });
    const result: RolloutResult = await run((taskQueue) => env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rt-exp-weak-1', args: [input] }));
    await recordHistory(env.client, 'rollout-rt-exp-weak-1', 'rollout-underpowered-stopped');
    expect(result.status).toBe('failed');
    expect(result.failure).toMatch(/cannot reach 80 % power: power \d+\.\d % to detect \+2\.0 % conversions/);
    expect(result.failure).toMatch(/detectable at 80\.0 % power: \+\d+\.\d %/);
    expect(result.experiment).toBeUndefined();
    const step = result.steps.find((s) => s.step === 'experiment')!;
    expect(step.numbers['power']).toBeLessThan(0.8);
    expect(step.numbers['mde']).toBe(0.02);
  });

  it('an underpowered plan with onUnderpowered "approval" waits at the power gate, and a rejection ends it with the numbers', async () => {
    const input = plan('rt-exp-gate', { minimumDetectableEffect: 0.02, onUnderpowered: 'approval' });
    const result: RolloutResult = await run(async (taskQueue) => {
      const handle = await env.client.workflow.start(rollout, { taskQueue, workflowId: 'rollout-rt-exp-gate-1', args: [input] });
      await waitFor(async () => (await handle.query(statusQuery)).state === 'waiting-approval');
      await handle.executeUpdate(approvalUpdate, { args: [{ decision: 'reject', by: 'ana@growth', reason: 'run it longer' }] });
      return handle.result();
    });
    await recordHistory(env.client, 'rollout-rt-exp-gate-1', 'rollout-underpowered-gated');
    expect(result.status).toBe('rejected');
    expect(result.failure).toMatch(/power gate by ana@growth: run it longer \(power \d+\.\d %/);
  });

  it('a sequential test stops early for a clear win, with its repeated interval at each look and the stage-wise one at the end', async () => {
    const input = plan('rt-exp-seq', { analysis: 'sequential', startDate: '2026-06-01' });
    const result: RolloutResult = await run((taskQueue) => env.client.workflow.execute(rollout, { taskQueue, workflowId: 'rollout-rt-exp-seq-1', args: [input] }));
    await recordHistory(env.client, 'rollout-rt-exp-seq-1', 'rollout-sequential-early-stop');
    const e = result.experiment!;
    expect(e.sequential!.stoppedEarly).toBe(true);
    expect(e.sequential!.stop).toBe('win');
    expect(e.sequential!.looks.length).toBeLessThan(14);
    expect(e.decision!.primary.method).toBe('sequential-stagewise');
    const last = e.sequential!.looks.at(-1)!;
    expect(e.sequential!.end).toEqual({ method: 'stage-wise ordering', ciLow: e.decision!.primary.ciLow, ciHigh: e.decision!.primary.ciHigh, confidence: 0.95 });
    // It rejected at this look, so the end interval excludes 0, as the repeated one does.
    expect(last.ciLow!).toBeGreaterThan(0);
    expect(e.decision!.primary.ciLow).toBeGreaterThan(0);
    const truth = await planted(e.experimentId);
    process.stdout.write(`[experiment rollout] sequential: stopped at look ${last.look}, estimate ${last.estimate!.toFixed(4)}, repeated interval ${last.ciLow!.toFixed(4)} to ${last.ciHigh!.toFixed(4)}, stage-wise ${e.decision!.primary.ciLow.toFixed(4)} to ${e.decision!.primary.ciHigh.toFixed(4)}, planted ${truth}\n`);
    expect(e.decision!.primary.ciLow).toBeLessThanOrEqual(truth);
    expect(e.decision!.primary.ciHigh).toBeGreaterThanOrEqual(truth);
    expect(e.ship).toBe(true);
    expect(result.steps.find((s) => s.step === 'experiment')!.summary).toMatch(/stopped early for win at look \d+/);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}
