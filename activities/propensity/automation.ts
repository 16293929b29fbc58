import type { AutomationResult } from '../../domain/propensity/results';
import { Context, log } from '@temporalio/activity';
import { NonRetryableError } from '../../domain/errors';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import type { Client } from '@temporalio/client';
import { longHash } from '../../domain/naming';
import { ScheduleSpecError, upsertSchedule, useCaseScheduleSpec, type ScheduleSpecInput, type UpsertResult } from '../../platform/schedules';
import { promote, servingView } from '../../serving/registry';
import type { ActivityDependencies } from '../dependencies';
import { aimoTable, stableJson, upsertAimoRow } from '../../store/aimo-tables';
import type { Warehouse } from '../../warehouse/warehouse';
import type { ModelVersion } from '../../domain/propensity/results';


/** Nightly, after the drift checks (02:00) and the weekly retrain (03:00) have written their tables. */
export const RETENTION_EVERY = '30 4 * * *';

/** Daily, after the market day (shortly after midnight) has landed yesterday's data and the drift checks have run. */
export const JUMP_CHECK_EVERY = '15 5 * * *';

export function createAutomationActivities({ warehouse, temporalClient }: ActivityDependencies) {
  return {
    /**
     * Step 7: this use case's retrain, drift, retention (and jump check) schedules are
     * created or updated (same plan, same schedules: 'unchanged') and its
     * alert routes set; then the shipped model becomes champion behind the
     * serving view. Each part converges when repeated, so a retry after a
     * failure anywhere ends in the same state as one clean run.
     */
    async applyAutomation({
      ctx,
      plan,
      model,
      at,
      jumpCheck = false,
    }: {
      ctx: RolloutContext;
      plan: RolloutPlan;
      model: ModelVersion;
      at: string;
      /** Also the daily jump check's schedule: rollouts automated before it existed ask without it */
      jumpCheck?: boolean;
    }): Promise<AutomationResult> {
      if (!temporalClient) throw new NonRetryableError('MissingTemporalClient', 'the worker was built without a Temporal client; schedules cannot be applied');
      const taskQueue = Context.current().info.taskQueue;
      const loops = [
        { kind: 'retrain', cron: plan.automation.retrainEvery },
        { kind: 'drift', cron: plan.automation.driftEvery },
        // The loops leave per-run tables every night; retention keeps this use case's bounded.
        { kind: 'retention', cron: RETENTION_EVERY },
        ...(jumpCheck ? [{ kind: 'jumps', cron: JUMP_CHECK_EVERY } as const] : []),
      ] as const;
      const schedules: AutomationResult['schedules'] = [];
      for (const loop of loops) {
        const spec = useCaseScheduleSpec({
          useCase: ctx.useCase,
          kind: loop.kind,
          taskQueue,
          cron: loop.cron,
          overlap: 'SKIP',
          managedBy: 'rollout',
          note: `${loop.kind} loop of ${ctx.useCase}, created by ${ctx.workflowId}`,
        });
        schedules.push({ scheduleId: spec.scheduleId, cron: loop.cron, outcome: await applySchedule(temporalClient, spec) });
      }
      await replaceAlertRoutes(warehouse, ctx.useCase, plan.automation.alertRoutes);
      // Last: the model serves only once its loops and alerts are in place, so no retry ever finds a champion without them.
      await promote(warehouse, { useCase: ctx.useCase, versionId: model.versionId, by: ctx.workflowId, reason: 'experiment shipped', at });
      const view = servingView(ctx.useCase);
      log.info('automation applied', { schedules: schedules.map((s) => `${s.scheduleId}:${s.outcome}`) });
      return { champion: model.versionId, servingView: view, schedules, alertRoutes: plan.automation.alertRoutes.length };
    },
  };
}

type AlertRoute = RolloutPlan['automation']['alertRoutes'][number];

/** A schedule Temporal refuses (a bad cron, time zone or interval) cannot be fixed by a retry. */
async function applySchedule(client: Client, spec: ScheduleSpecInput): Promise<UpsertResult> {
  try {
    return await upsertSchedule(client, spec);
  } catch (err) {
    if (err instanceof ScheduleSpecError) throw new NonRetryableError('InvalidSchedule', err.message);
    throw err;
  }
}

/**
 * The plan's routes become the use case's routes: each keyed by what it is
 * (its kind and a hash of its settings), and a route the plan no longer
 * names is removed, so it is alerted no more.
 */
async function replaceAlertRoutes(wh: Warehouse, useCase: string, routes: readonly AlertRoute[]): Promise<void> {
  const keyed = new Map(routes.map((route) => [`${route.kind}-${longHash(stableJson(route))}`, route]));
  for (const [key, route] of keyed) await upsertAimoRow(wh, 'alert_routes', { use_case: useCase, route: key, route_json: JSON.stringify(route) });
  const q = (c: string) => wh.dialect.quote(c);
  const table = wh.dialect.table(aimoTable('alert_routes'));
  const stored = await wh.query<{ route: string }>(`SELECT ${q('route')} AS route FROM ${table} WHERE ${q('use_case')} = @use_case`, { use_case: useCase });
  for (const { route } of stored) {
    if (!keyed.has(route)) await wh.execute(`DELETE FROM ${table} WHERE ${q('use_case')} = @use_case AND ${q('route')} = @route`, { use_case: useCase, route });
  }
}
