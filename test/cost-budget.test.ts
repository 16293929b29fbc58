import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { ModelRun } from '../domain/propensity/results';
import { rolloutTablePrefix } from '../domain/naming';
import type { RolloutPlan } from '../domain/plan';
import { PROPENSITY_MODELS } from '../pipelines/propensity/models';
import type { RolloutContext } from '../domain/rollout/context';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import type { TableRef } from '../domain/table-ref';
import type { SqlParams } from '../warehouse/params';
import { withQueryContext } from '../warehouse/scoped';
import type { ColumnInfo, QueryContext, Row, Warehouse } from '../warehouse/warehouse';
import { parsedPlan, seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';
import { createSimulatedMarket } from '../simulator/market';

/**
 * A plan's byte budget reaches every statement of every rollout step
 * that runs SQL over the data (KPI baseline, inventory, data path, training,
 * guardrails, experiment, scoring, drift) as QueryContext.maxBytesScanned, which the
 * BigQuery adapter turns into a dry run and maximumBytesBilled (see
 * bigquery.test.ts for the refusal itself).
 */

interface Recorded {
  /** The activity that ran the statement */
  readonly step: string | undefined;
  readonly sql: string;
  readonly ctx: QueryContext | undefined;
}

/** aimo's own bookkeeping (KPI specs, quality results, the registry, reports): small keyed writes and reads, no budget. */
const BOOKKEEPING = /"aimo"\."(kpi_specs|inventory_reports|dq_results|audit_log|model_registry|model_aliases|experiments|drift_reports|alerts_sent|alert_routes)"|^CREATE (SCHEMA|TABLE) IF NOT EXISTS/;

/** Passes every call to DuckDB and remembers the SQL and the context it came with. */
class RecordingWarehouse implements Warehouse {
  readonly calls: Recorded[] = [];
  step: string | undefined;
  constructor(private readonly inner: Warehouse) {}
  get dialect() {
    return this.inner.dialect;
  }
  query<T extends Row = Row>(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<T[]> {
    this.calls.push({ step: this.step, sql, ctx });
    return this.inner.query<T>(sql, params, ctx);
  }
  execute(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    this.calls.push({ step: this.step, sql, ctx });
    return this.inner.execute(sql, params, ctx);
  }
  tableExists(table: TableRef): Promise<boolean> {
    return this.inner.tableExists(table);
  }
  columns(table: TableRef): Promise<ColumnInfo[]> {
    return this.inner.columns(table);
  }
  createOrReplaceTableAs(table: TableRef, select: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    return this.execute(this.dialect.createOrReplaceTableAs(table, select), params, ctx);
  }
  merge(table: TableRef, source: string, keys: readonly string[], columns: readonly string[], params?: SqlParams, ctx?: QueryContext): Promise<void> {
    return this.execute(this.dialect.merge(table, source, keys, columns), params, ctx);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('the plan’s byte budget reaches the warehouse', () => {
  let duckdb: DuckDbWarehouse;
  const env = new MockActivityEnvironment({ taskQueue: 'cost-budget' });

  beforeAll(async () => {
    duckdb = await seededWarehouse(1_500, 11);
  });

  afterAll(async () => {
    await duckdb?.close();
  });

  function planWith(maxBytesScanned: number | undefined, useCase: string): RolloutPlan {
    const base = testPlan({ useCase });
    return parsedPlan({ ...base, guardrails: { ...base.guardrails, ...(maxBytesScanned === undefined ? {} : { maxBytesScanned }) } });
  }

  const STEPS = [
    'measureKpiBaseline',
    'inventorySources',
    'runDataModel',
    'trainBaselineModel',
    'evaluateGuardrails',
    'assignExperiment',
    'checkExperimentHealth',
    'readExperiment',
    'scoreWithVersion',
    'computeUseCaseDrift',
  ];

  /** Every warehouse step of a rollout and of the drift loop; returns the statements each ran, bookkeeping left out. */
  async function runSteps(plan: RolloutPlan, workflowId: string): Promise<{ ctx: RolloutContext; calls: Recorded[] }> {
    const warehouse = new RecordingWarehouse(duckdb);
    const activities = createActivities({ warehouse, simulator: createSimulatedMarket(warehouse, { seed: 42 }), hashSalt: TEST_SALT, dataDir: tempDataDir() });
    const ctx: RolloutContext = { workflowId, useCase: plan.useCase, tablePrefix: rolloutTablePrefix(plan.useCase, workflowId) };
    const step = async <T>(name: string | undefined, fn: () => Promise<T>): Promise<T> => {
      warehouse.step = name;
      return (await env.run(fn)) as T;
    };
    await step('measureKpiBaseline', () => activities.measureKpiBaseline({ ctx, plan }));
    await step('inventorySources', () => activities.inventorySources({ ctx, plan }));
    const dataPath: ModelRun[] = [];
    for (const m of PROPENSITY_MODELS) dataPath.push(await step('runDataModel', () => activities.runDataModel({ ctx, plan, model: m.name })));
    const model = await step('trainBaselineModel', () => activities.trainBaselineModel({ ctx, plan, registeredAt: '2026-03-05T00:00:00.000Z' }));
    await step('evaluateGuardrails', () => activities.evaluateGuardrails({ ctx, plan, dataPath, model }));
    const assignment = await step('assignExperiment', () => activities.assignExperiment({ ctx, plan, model, startDate: '2026-04-01' }));
    // The built-in market stands in for real outcomes; it is the simulator's, not a step of aimo's.
    await step(undefined, () => activities.simulateExperimentOutcomes({ ctx, plan, assignment }));
    await step('checkExperimentHealth', () => activities.checkExperimentHealth({ ctx, plan, assignment }));
    await step('readExperiment', () => activities.readExperiment({ ctx, plan, assignment }));
    const currentScores = await step('scoreWithVersion', () =>
      activities.scoreWithVersion({ ctx, versionId: model.versionId, featuresTable: model.featuresTable, name: 'rescored' }),
    );
    await step('computeUseCaseDrift', () =>
      activities.computeUseCaseDrift({
        ctx,
        championVersionId: model.versionId,
        referenceFeatures: model.featuresTable,
        currentFeatures: model.featuresTable,
        referenceScores: model.scoresTable,
        currentScores,
        thresholds: {},
        maxBytesScanned: plan.guardrails.maxBytesScanned,
      }),
    );
    return { ctx, calls: warehouse.calls.filter((c) => c.step !== undefined && !BOOKKEEPING.test(c.sql)) };
  }

  it('every statement of every step carries the budget, the use case and the workflow', async () => {
    const { ctx, calls } = await runSteps(planWith(2_000_000_000, 'budgeted'), 'rollout-budgeted');
    expect([...new Set(calls.map((c) => c.step))]).toEqual(STEPS);
    expect(calls.length).toBeGreaterThan(30);
    for (const call of calls) {
      expect({ step: call.step, sql: call.sql.slice(0, 80), ctx: call.ctx }).toEqual({
        step: call.step,
        sql: call.sql.slice(0, 80),
        ctx: { useCase: ctx.useCase, workflowId: ctx.workflowId, maxBytesScanned: 2_000_000_000 },
      });
    }
  });

  it('without a budget in the plan no statement carries one', async () => {
    const { calls } = await runSteps(planWith(undefined, 'unbudgeted'), 'rollout-unbudgeted');
    expect(calls.length).toBeGreaterThan(30);
    for (const call of calls) expect(call.ctx?.maxBytesScanned).toBeUndefined();
  });

  it('withQueryContext merges a call’s own context over the defaults', async () => {
    const inner = new RecordingWarehouse(duckdb);
    const scoped = withQueryContext(inner, { useCase: 'a', workflowId: 'w', maxBytesScanned: 10 });
    await scoped.query('SELECT 1 AS one');
    await scoped.execute('SELECT 1', {}, { workflowId: 'other' });
    await scoped.close();
    expect(inner.calls.map((c) => c.ctx)).toEqual([
      { useCase: 'a', workflowId: 'w', maxBytesScanned: 10 },
      { useCase: 'a', workflowId: 'other', maxBytesScanned: 10 },
    ]);
    // Closing the scoped view leaves the shared connection open.
    expect(await duckdb.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
  });
});
