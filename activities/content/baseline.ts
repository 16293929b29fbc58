import type { ContentBaseline } from '../../domain/content/results';
import { log } from '@temporalio/activity';
import { addDaysIso } from '../../domain/dates';
import type { ContentPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { formatTable, tableRef } from '../../domain/table-ref';
import { upsertAimoRow } from '../../store/aimo-tables';
import type { ActivityDependencies } from '../dependencies';

export function createContentBaselineActivities({ warehouse }: ActivityDependencies) {
  const d = warehouse.dialect;
  const q = (c: string) => d.quote(c);
  return {
    /** Step 1 (content): the incumbent creative's click-through rate, measured from its history. */
    async measureContentBaseline({ ctx, plan }: { ctx: RolloutContext; plan: ContentPlan }): Promise<ContentBaseline> {
      const table = tableRef(plan.content.historyTable, plan.sources.schema);
      if (!(await warehouse.tableExists(table))) {
        log.warn('content baseline not measurable: history table missing', { table: formatTable(table) });
        return { metric: plan.kpi.metric, baseline: null, target: null, window: null, impressions: 0, clicks: 0 };
      }
      const [last] = await warehouse.query<{ last: string | Date | null }>(`SELECT MAX(${q('day')}) AS last FROM ${d.table(table)}`);
      if (!last?.last) return { metric: plan.kpi.metric, baseline: null, target: null, window: null, impressions: 0, clicks: 0 };
      const to = (last.last instanceof Date ? last.last.toISOString() : String(last.last)).slice(0, 10);
      const from = addDaysIso(to, -(plan.kpi.baselineDays - 1));
      const [row] = await warehouse.query<{ impressions: number | null; clicks: number | null }>(
        `SELECT SUM(${q('impressions')}) AS impressions, SUM(${q('clicks')}) AS clicks FROM ${d.table(table)}
         WHERE ${q('day')} BETWEEN ${d.cast('@from', 'date')} AND ${d.cast('@to', 'date')}`,
        { from, to },
      );
      const impressions = Number(row?.impressions ?? 0);
      const clicks = Number(row?.clicks ?? 0);
      const baseline = impressions > 0 ? clicks / impressions : null;
      const target = baseline === null ? null : baseline * (1 + plan.kpi.targetChange);
      await upsertAimoRow(warehouse, 'kpi_specs', {
        workflow_id: ctx.workflowId, use_case: ctx.useCase, metric: plan.kpi.metric, channel: plan.kpi.channel, market: plan.kpi.market,
        baseline, target, target_change: plan.kpi.targetChange, deadline: plan.kpi.deadline, window_from: from, window_to: to, spec_json: JSON.stringify(plan.kpi),
      });
      return { metric: plan.kpi.metric, baseline, target, window: { from, to }, impressions, clicks };
    },
  };
}
