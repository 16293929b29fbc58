import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../activities';
import type { RolloutPlan } from '../domain/plan';
import { PROPENSITY_MODELS } from '../pipelines/propensity/models';
import { rolloutTablePrefix } from '../domain/naming';
import type { RolloutContext } from '../domain/rollout/context';
import { tableChecksums } from '../simulator';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { parsedPlan, seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { createSimulatedMarket } from '../simulator/market';

/**
 * Every rollout activity, run twice in a row, leaves the warehouse exactly as
 * one run does: same tables, same rows (checksums over both schemas). This is
 * what makes Temporal's retries and a worker restart mid-step safe.
 */
describe('activities are idempotent', () => {
  let warehouse: DuckDbWarehouse;
  let activities: Activities;
  const env = new MockActivityEnvironment({ taskQueue: 'idempotency' });
  const workflowId = 'rollout-idem-1';
  let plan: RolloutPlan;
  let ctx: RolloutContext;

  beforeAll(async () => {
    warehouse = await seededWarehouse();
    activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
    plan = parsedPlan(testPlan({ useCase: 'idem' }));
    ctx = { workflowId, useCase: plan.useCase, tablePrefix: rolloutTablePrefix(plan.useCase, workflowId) };
  });

  afterAll(async () => {
    await warehouse?.close();
  });

  const state = async () => ({ aimo: await tableChecksums(warehouse, 'aimo'), raw: await tableChecksums(warehouse, 'raw') });

  /** Runs an activity, snapshots, runs it again with the same input, and compares. */
  async function twice<T>(name: string, run: () => Promise<T>): Promise<T> {
    await env.run(run);
    const afterFirst = await state();
    const second = (await env.run(run)) as T;
    const afterSecond = await state();
    expect([name, afterSecond]).toEqual([name, afterFirst]);
    return second;
  }

  it('holds for every step of the rollout, in order', async () => {
    const at = '2026-11-28T10:00:00.000Z';
    await twice('recordAudit', () => activities.recordAudit({ ctx, seq: 1, step: 'rollout', decision: 'started', actor: 'test', reason: 'r', details: {}, at }));
    await twice('measureKpiBaseline', () => activities.measureKpiBaseline({ ctx, plan }));
    await twice('inventorySources', () => activities.inventorySources({ ctx, plan }));
    const runs: Awaited<ReturnType<Activities['runDataModel']>>[] = [];
    for (const model of PROPENSITY_MODELS) runs.push(await twice(`runDataModel ${model.name}`, () => activities.runDataModel({ ctx, plan, model: model.name })));
    const model = await twice('trainBaselineModel', () => activities.trainBaselineModel({ ctx, plan, registeredAt: at }));
    await twice('evaluateGuardrails', () => activities.evaluateGuardrails({ ctx, plan, dataPath: runs, model }));
    const assignment = await twice('assignExperiment', () => activities.assignExperiment({ ctx, plan, model, startDate: '2026-04-01' }));
    await twice('simulateExperimentOutcomes', () => activities.simulateExperimentOutcomes({ ctx, plan, assignment }));
    const readout = await twice('readExperiment', () => activities.readExperiment({ ctx, plan, assignment }));
    expect(readout.arms.treatment.users).toBeGreaterThan(0);
    await twice('promoteVersion', () => activities.promoteVersion({ useCase: ctx.useCase, versionId: model.versionId, by: workflowId, reason: 'test', at }));
    await twice('rollbackServing', () => activities.rollbackServing({ useCase: ctx.useCase, toVersion: model.versionId, by: 'test', reason: 'same version', at }));
  });
});
