import { log } from '@temporalio/activity';
import { addDaysIso } from '../../domain/dates';
import { NonRetryableError } from '../../domain/errors';
import { detectJump, jumpSettingsSchema, type JumpSettings, type SeriesVerdict } from '../../domain/loops/jumps';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { describeIssues } from '../../domain/validation';
import { servingView } from '../../serving/registry';
import { stepWarehouse } from '../../store/query-context';
import type { ActivityDependencies } from '../dependencies';
import { newestCompleteDay } from './freshness';
import { kpiAndCostSeries, llmCostSeries, modelCaptureSeries, naturalScale } from './jump-series';

export interface JumpAssessment {
  readonly day: string;
  readonly settings: JumpSettings;
  readonly verdicts: SeriesVerdict[];
}

export function createJumpActivities({ warehouse }: ActivityDependencies) {
  return {
    /**
     * Reads the use case's daily KPI, cost and model series up to the judged
     * day (the data's newest complete day unless given) and judges that day
     * of each against its seasonal baseline. Reads only: a retry judges the
     * same data the same way.
     */
    async assessJumps({ ctx, plan, day, settings }: { ctx: RolloutContext; plan: RolloutPlan; day?: string; settings?: Record<string, unknown> }): Promise<JumpAssessment> {
      const parsed = jumpSettingsSchema.safeParse(settings ?? {});
      if (!parsed.success) throw new NonRetryableError('InvalidInput', `jump check settings: ${describeIssues(jumpSettingsSchema, parsed.error.issues, '(settings)').join('; ')}`);
      const resolved = parsed.data;
      const wh = stepWarehouse(warehouse, ctx, plan);
      const judged = day ?? (await newestCompleteDay(wh, plan)).newestCompleteDay;
      const from = addDaysIso(judged, -7 * resolved.weeks);
      const series = [
        ...(await kpiAndCostSeries(wh, plan, from, judged)),
        ...(await llmCostSeries(wh, ctx.useCase, from, judged)),
        ...((await wh.tableExists(servingView(ctx.useCase))) ? await modelCaptureSeries(wh, plan, servingView(ctx.useCase), from, judged) : []),
      ];
      const verdicts = series.map((s) => ({ series: s.series, verdict: detectJump(s.values, judged, { ...resolved, scale: resolved.scale ?? naturalScale(s.series, plan) }) }));
      log.info('jumps assessed', { day: judged, verdicts: verdicts.map((v) => `${v.series}:${v.verdict.verdict}`) });
      return { day: judged, settings: resolved, verdicts };
    },
  };
}
