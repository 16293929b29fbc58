import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../activities';
import type { ModelVersion } from '../activities/rollout/model';
import { rolloutTablePrefix } from '../domain/naming';
import { checkPlan, type RolloutPlan } from '../domain/plan';
import { PROPENSITY_MODELS } from '../domain/propensity-pipeline';
import type { RolloutContext } from '../domain/rollout-context';
import type { DuckDbWarehouse } from '../warehouse/duckdb';
import type { TableRef } from '../warehouse/identifiers';
import type { SqlParams } from '../warehouse/params';
import { withQueryContext } from '../warehouse/scoped';
import type { ColumnInfo, QueryContext, Row, Warehouse } from '../warehouse/warehouse';
import { seededWarehouse, TEST_SALT, tempDataDir, testPlan } from './support/rollout-fixtures';

/**
 * A plan's byte budget reaches every statement of the data path, the
 * training and the drift check as QueryContext.maxBytesScanned, which the
 * BigQuery adapter turns into a dry run and maximumBytesBilled (see
 * bigquery.test.ts for the refusal itself).
 */

interface Recorded {
  readonly sql: string;
  readonly ctx: QueryContext | undefined;
}

/** Passes every call to DuckDB and remembers the SQL and the context it came with. */
class RecordingWarehouse implements Warehouse {
  readonly calls: Recorded[] = [];
  constructor(private readonly inner: Warehouse) {}
  get dialect() {
    return this.inner.dialect;
  }
  query<T extends Row = Row>(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<T[]> {
    this.calls.push({ sql, ctx });
    return this.inner.query<T>(sql, params, ctx);
  }
  execute(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    this.calls.push({ sql, ctx });
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
    const checked = checkPlan({ ...base, guardrails: { ...base.guardrails, ...(maxBytesScanned === undefined ? {} : { maxBytesScanned }) } });
    if (!checked.ok) throw new Error(checked.problems.join('\n'));
    return checked.plan;
  }

  /** The data path, training, scoring and drift of one rollout; returns the statements that touched its tables. */
  async function runSteps(plan: RolloutPlan, workflowId: string): Promise<{ ctx: RolloutContext; calls: Recorded[] }> {
    const warehouse = new RecordingWarehouse(duckdb);
    const activities = createActivities({ warehouse, hashSalt: TEST_SALT, dataDir: tempDataDir() });
    const ctx: RolloutContext = { workflowId, useCase: plan.useCase, tablePrefix: rolloutTablePrefix(plan.useCase, workflowId) };
    for (const m of PROPENSITY_MODELS) await env.run(() => activities.runDataModel({ ctx, plan, model: m.name }));
    const model = (await env.run(() => activities.trainBaselineModel({ ctx, plan, registeredAt: '2026-03-05T00:00:00.000Z' }))) as ModelVersion;
    const currentScores = (await env.run(() =>
      activities.scoreWithVersion({ ctx, versionId: model.versionId, featuresTable: model.featuresTable, name: 'rescored' }),
    )) as string;
    await env.run(() =>
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
    return { ctx, calls: warehouse.calls.filter((c) => c.sql.includes(ctx.tablePrefix)) };
  }

  it('every statement over the rollout’s tables carries the budget, the use case and the workflow', async () => {
    const { ctx, calls } = await runSteps(planWith(2_000_000_000, 'budgeted'), 'rollout-budgeted');
    // Builds, counts and checks of five models, the Newton iterations, evaluation, scoring, drift.
    expect(calls.length).toBeGreaterThan(30);
    for (const call of calls) {
      expect({ sql: call.sql.slice(0, 80), ctx: call.ctx }).toEqual({
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
