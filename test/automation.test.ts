import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities, type Activities } from '../activities';
import { rolloutTablePrefix } from '../domain/naming';
import type { RolloutPlan } from '../domain/plan';
import type { AutomationResult, ModelVersion } from '../domain/propensity/results';
import type { RolloutContext } from '../domain/rollout/context';
import { PROPENSITY_MODELS } from '../pipelines/propensity/models';
import { deleteSchedule, listSchedules } from '../platform/schedules';
import { getAlias } from '../serving/registry';
import { createSimulatedMarket } from '../simulator/market';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import { parsedPlan, seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { connectToTestServer, uniqueTaskQueue } from './support/temporal';

/**
 * Step 7 as one unit: the loops' schedules and the alert routes are in place
 * before the model serves, a schedule Temporal refuses stops the step without
 * moving the champion, and the plan's routes replace the stored ones.
 */
describe('the automation step', () => {
  let env: TestWorkflowEnvironment;
  let warehouse: DuckDbWarehouse;
  let activities: Activities;
  let model: ModelVersion;
  let plan: RolloutPlan;
  let ctx: RolloutContext;
  const useCase = 'au-routes';
  const mock = new MockActivityEnvironment({ taskQueue: uniqueTaskQueue('automation') });
  const at = '2026-11-28T10:00:00.000Z';

  beforeAll(async () => {
    [env, warehouse] = await Promise.all([connectToTestServer(), seededWarehouse(5_000)]);
    activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir(), temporalClient: env.client });
    plan = parsedPlan(testPlan({ useCase, automation: { alertRoutes: [{ kind: 'log' }, { kind: 'webhook', url: 'https://alerts.example/hook' }] } }));
    ctx = { workflowId: 'rollout-au-routes-1', useCase, tablePrefix: rolloutTablePrefix(useCase, 'rollout-au-routes-1') };
    for (const m of PROPENSITY_MODELS) await mock.run(() => activities.runDataModel({ ctx, plan, model: m.name }));
    model = (await mock.run(() => activities.trainBaselineModel({ ctx, plan, registeredAt: at }))) as ModelVersion;
  }, 300_000);

  afterAll(async () => {
    for (const s of await listSchedules(env.client, `aimo-${useCase}-`)) await deleteSchedule(env.client, s.scheduleId);
    await warehouse?.close();
    await env?.teardown();
  });

  const routes = async () => (await warehouse.query<{ route: string }>(`SELECT route FROM aimo.alert_routes WHERE use_case = @use_case ORDER BY route`, { use_case: useCase })).map((r) => r.route);

  it('refuses a schedule Temporal cannot run without retrying, and moves no champion', async () => {
    // Past the plan's check (a worker of an older release could hand such a plan over): Temporal itself refuses it.
    const bad = { ...plan, automation: { ...plan.automation, driftEvery: '61 2 * * *' } };
    const error = (await mock.run(() => activities.applyAutomation({ ctx, plan: bad, model, at })).catch((e: unknown) => e)) as Error & { type?: string; nonRetryable?: boolean };
    expect(error).toMatchObject({ type: 'InvalidSchedule', nonRetryable: true });
    expect(error.message).toContain('aimo-au-routes-drift');
    expect(await getAlias(warehouse, useCase, 'champion')).toBeUndefined();
  });

  it('applies schedules and routes, then promotes; a second run changes nothing', async () => {
    const first: AutomationResult = await mock.run(() => activities.applyAutomation({ ctx, plan, model, at }));
    expect(first.schedules.map((s) => s.scheduleId).sort()).toEqual([`aimo-${useCase}-drift`, `aimo-${useCase}-retention`, `aimo-${useCase}-retrain`]);
    expect(await getAlias(warehouse, useCase, 'champion')).toBe(model.versionId);
    const keys = await routes();
    expect(keys).toEqual([expect.stringMatching(/^log-[0-9a-f]{16}$/), expect.stringMatching(/^webhook-[0-9a-f]{16}$/)]);
    const again: AutomationResult = await mock.run(() => activities.applyAutomation({ ctx, plan, model, at }));
    expect(again.schedules.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(await routes()).toEqual(keys);
  });

  it('removes a route the plan no longer names', async () => {
    const before = await routes();
    await mock.run(() => activities.applyAutomation({ ctx, plan: { ...plan, automation: { ...plan.automation, alertRoutes: [{ kind: 'log' }] } }, model, at }));
    expect(await routes()).toEqual([before[0]]);
  });
});
