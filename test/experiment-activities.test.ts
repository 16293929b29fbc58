import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../activities';
import { assertConverged } from '../activities/propensity/model';
import { analyseExperiment, measureExperimentArms } from '../analytics/experiment';
import { trainLogisticRegression } from '../analytics/logistic';
import type { LogisticModel } from '../domain/stats/logistic';
import { rolloutTablePrefix } from '../domain/naming';
import type { RolloutPlan } from '../domain/plan';
import type { RolloutContext } from '../domain/rollout/context';
import { PROPENSITY_MODELS } from '../pipelines/propensity/models';
import { tableChecksums } from '../simulator';
import { createSimulatedMarket } from '../simulator/market';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { parsedPlan, seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';

/**
 * The experiment step's new activities on the simulated market: each run
 * twice leaves the warehouse as one run does and returns the same answer;
 * CUPED narrows the interval on the market's own data; a baseline model
 * that cannot converge fails with a message that says what to change.
 */
describe('experiment activities on the simulated market', () => {
  let warehouse: DuckDbWarehouse;
  let activities: Activities;
  const env = new MockActivityEnvironment({ taskQueue: 'experiment-activities' });
  let plan: RolloutPlan;
  let ctx: RolloutContext;

  beforeAll(async () => {
    warehouse = await seededWarehouse();
    activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
    plan = parsedPlan(testPlan({ useCase: 'exp-act', experiment: { ...testPlan().experiment, design: 'geo', aaCheck: true } }));
    ctx = { workflowId: 'rollout-exp-act-1', useCase: plan.useCase, tablePrefix: rolloutTablePrefix(plan.useCase, 'rollout-exp-act-1') };
    for (const model of PROPENSITY_MODELS) await env.run(() => activities.runDataModel({ ctx, plan, model: model.name }));
  });

  afterAll(async () => {
    await warehouse?.close();
  });

  const train = async () => (await env.run(() => activities.trainBaselineModel({ ctx, plan, registeredAt: '2026-11-28T10:00:00.000Z' }))) as Awaited<ReturnType<Activities['trainBaselineModel']>>;
  const state = async () => ({ aimo: await tableChecksums(warehouse, 'aimo'), raw: await tableChecksums(warehouse, 'raw') });
  /** Same state after a second run; and the same answer, except for readouts, whose parallel float sums may differ in the last bits. */
  async function twice<T>(name: string, run: () => Promise<T>, sameAnswer = true): Promise<T> {
    const first = (await env.run(run)) as T;
    const afterFirst = await state();
    const second = (await env.run(run)) as T;
    expect([name, await state()]).toEqual([name, afterFirst]);
    if (sameAnswer) expect([name, second]).toEqual([name, first]);
    return second;
  }

  it('design, A/A check, geo assignment, the market\'s answer and the geo readout are idempotent', async () => {
    const model = await train();
    const startDate = '2026-04-01';
    const design = await twice('designExperiment', () => activities.designExperiment({ ctx, plan, startDate }));
    expect(design.baselineRate).toBeGreaterThan(0);
    expect(design.byDays.map((d) => d.days)).toEqual([7, 14, 21, 28, 42, 56, 90]); // 90 days of history before the start
    const aa = await twice('runAaCheck', () => activities.runAaCheck({ ctx, plan, startDate, from: design.baselineWindow.from }));
    process.stdout.write(`[experiment activities] ${aa.summary}\n`);
    expect(aa.splits).toBe(200);
    expect(aa.passed).toBe(true);
    const assignment = await twice('assignGeoExperiment', () => activities.assignGeoExperiment({ ctx, plan, model, startDate, design }));
    expect(assignment.geo!.pairs).toBe(10);
    await twice('simulateExperimentOutcomes', () => activities.simulateExperimentOutcomes({ ctx, plan, assignment }));
    const readout = await twice('readGeoExperiment', () => activities.readGeoExperiment({ ctx, plan, assignment, design }), false);
    expect(readout.geo!.effect.ciLow).toBeLessThan(readout.geo!.effect.ciHigh);
    expect(readout.geo!.pairs).toHaveLength(10);
    const look = await twice('readExperiment (a look)', () => activities.readExperiment({ ctx, plan: { ...plan, experiment: { ...plan.experiment, analysis: 'sequential' } }, assignment, design, look: { days: 7, fraction: 0.5, final: false, previous: [] } }), false);
    expect(look.sequential!.looks).toHaveLength(1);
  });

  it('CUPED narrows the conversion and revenue intervals on the simulator\'s data, and says by how much', async () => {
    const model = await train();
    const ab = { ...plan, experiment: { ...plan.experiment, design: 'ab' as const } };
    const assignment = (await env.run(() => activities.assignExperiment({ ctx, plan: ab, model, startDate: '2026-04-01' }))) as Awaited<ReturnType<Activities['assignExperiment']>>;
    await env.run(() => activities.simulateExperimentOutcomes({ ctx, plan: ab, assignment }));
    const spec = { assignmentTable: assignment.assignmentTable, ordersTable: { schema: 'raw', name: 'orders' }, from: '2026-04-01', to: '2026-04-15' };
    const arms = await measureExperimentArms(warehouse, { ...spec, prePeriod: { from: '2026-01-01', to: '2026-04-01' } });
    const a = analyseExperiment(arms);
    const width = (d: { standardError: number }) => d.standardError;
    const conversion = 1 - width(a.adjusted!.conversion) / a.adjusted!.conversion.unadjusted.standardError;
    const revenue = 1 - width(a.adjusted!.revenuePerUser) / a.adjusted!.revenuePerUser.unadjusted.standardError;
    process.stdout.write(`[experiment activities] CUPED on the simulated market (90-day pre-period): conversion interval −${(conversion * 100).toFixed(1)} % (variance −${(a.adjusted!.conversion.varianceReduction * 100).toFixed(1)} %), revenue per user interval −${(revenue * 100).toFixed(1)} %\n`);
    expect(conversion).toBeGreaterThan(0);
    expect(revenue).toBeGreaterThan(0);
  });

  it('a baseline model on separable data with l2 = 0 fails with what to change', async () => {
    await warehouse.execute(`CREATE OR REPLACE TABLE raw.separable AS SELECT i AS x, CASE WHEN i >= 50 THEN 1 ELSE 0 END AS label FROM range(100) r(i)`);
    const model: LogisticModel = await trainLogisticRegression(warehouse, { table: { schema: 'raw', name: 'separable' }, features: ['x'], label: 'label', l2: 0, maxIterations: 25, tolerance: 1e-8 });
    expect(model.converged).toBe(false);
    expect(() => assertConverged(model, 0)).toThrow(/did not converge in 25 iterations \(model.l2 = 0\): the training data look separable .*set model.l2 to a positive penalty/);
  });
});
