import type { ModelRun } from '../../domain/propensity/results';
import { heartbeat, log } from '@temporalio/activity';
import { runExpectations } from '../../analytics/expectations';
import type { RolloutPlan } from '../../domain/plan';
import type { PropensityModelName } from '../../domain/propensity/features';
import type { RolloutContext } from '../../domain/rollout/context';
import { runTable } from '../../domain/rollout/context';
import { buildModelSql } from '../../pipelines/propensity/models';
import type { ActivityDependencies } from '../dependencies';
import { ensureAimoTables, stableJson, upsertAimoRow } from '../../store/aimo-tables';
import { stepWarehouse } from '../../store/query-context';


export function createDataPathActivities({ warehouse, hashSalt }: ActivityDependencies) {
  return {
    /**
     * Step 3, one model: CREATE OR REPLACE of a table named after the rollout,
     * then its data-quality expectations. Running it twice leaves the same
     * table and the same result rows.
     */
    async runDataModel({ ctx, plan, model }: { ctx: RolloutContext; plan: RolloutPlan; model: PropensityModelName }): Promise<ModelRun> {
      await ensureAimoTables(warehouse);
      const started = performance.now();
      const target = runTable(ctx, model);
      // Every statement of the step carries the rollout's labels and the plan's byte budget.
      const wh = stepWarehouse(warehouse, ctx, plan);
      const sql = buildModelSql(wh.dialect, ctx, plan, model, hashSalt);
      await wh.createOrReplaceTableAs(target, sql.select, sql.params);
      heartbeat(`built ${model}`);
      const [count] = await wh.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${wh.dialect.table(target)}`);
      const expectations = await runExpectations(wh, target, sql.expectations, { now: new Date(`${plan.windows.asOf}T00:00:00Z`) });
      for (const result of expectations) {
        await upsertAimoRow(warehouse, 'dq_results', {
          workflow_id: ctx.workflowId,
          model,
          expectation: result.name,
          success: result.success,
          unexpected_count: result.unexpectedCount,
          unexpected_percent: result.unexpectedPercent,
          result_json: stableJson(result),
        });
      }
      const seconds = (performance.now() - started) / 1000;
      log.info('data model built', { model, rows: count?.n ?? 0, seconds, failed: expectations.filter((e) => !e.success).length });
      return { model, table: target, rows: Number(count?.n ?? 0), seconds, expectations };
    },
  };
}
