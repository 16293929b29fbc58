import type { AutomationResult } from '../../domain/propensity/results';
import { Context, log } from '@temporalio/activity';
import { NonRetryableError } from '../../domain/errors';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { upsertSchedule, useCaseScheduleSpec } from '../../platform/schedules';
import { promote, servingView } from '../../serving/registry';
import type { ActivityDependencies } from '../dependencies';
import { upsertAimoRow } from '../../store/aimo-tables';
import type { ModelVersion } from '../../domain/propensity/results';


/** Nightly, after the drift checks (02:00) and the weekly retrain (03:00) have written their tables. */
export const RETENTION_EVERY = '30 4 * * *';

export function createAutomationActivities({ warehouse, temporalClient }: ActivityDependencies) {
  return {
    /**
     * Step 7: the shipped model becomes champion behind the serving view, and
     * this use case's retrain, drift and retention schedules are created or
     * updated (same plan, same schedules: 'unchanged').
     */
    async applyAutomation({ ctx, plan, model, at }: { ctx: RolloutContext; plan: RolloutPlan; model: ModelVersion; at: string }): Promise<AutomationResult> {
      if (!temporalClient) throw new NonRetryableError('MissingTemporalClient', 'the worker was built without a Temporal client; schedules cannot be applied');
      await promote(warehouse, { useCase: ctx.useCase, versionId: model.versionId, by: ctx.workflowId, reason: 'experiment shipped', at });
      const taskQueue = Context.current().info.taskQueue;
      const loops = [
        { kind: 'retrain', cron: plan.automation.retrainEvery },
        { kind: 'drift', cron: plan.automation.driftEvery },
        // The loops leave per-run tables every night; retention keeps this use case's bounded.
        { kind: 'retention', cron: RETENTION_EVERY },
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
        const outcome = await upsertSchedule(temporalClient, spec);
        schedules.push({ scheduleId: spec.scheduleId, cron: loop.cron, outcome });
      }
      for (const [index, route] of plan.automation.alertRoutes.entries()) {
        await upsertAimoRow(warehouse, 'alert_routes', { use_case: ctx.useCase, route: `${index}-${route.kind}`, route_json: JSON.stringify(route) });
      }
      const view = servingView(ctx.useCase);
      log.info('automation applied', { schedules: schedules.map((s) => `${s.scheduleId}:${s.outcome}`) });
      return { champion: model.versionId, servingView: view, schedules, alertRoutes: plan.automation.alertRoutes.length };
    },
  };
}
