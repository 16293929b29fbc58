import type { KpiBaseline } from '../../domain/propensity/results';
import { log } from '@temporalio/activity';
import { addDaysIso } from '../../domain/dates';
import type { RolloutPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import type { Warehouse } from '../../warehouse/warehouse';
import type { ActivityDependencies } from '../dependencies';
import { formatTable } from '../../domain/table-ref';
import { stepWarehouse } from '../../store/query-context';
import { upsertAimoRow } from '../../store/aimo-tables';
import { sourceTable } from '../../domain/propensity/sources';


export interface KpiComponents {
  spend: number;
  market_spend: number;
  revenue: number;
  market_revenue: number;
  margin: number;
  returned_revenue: number;
  customers: number;
  new_customers: number;
  visitors: number;
}

/**
 * The SQL of every KPI ingredient over [@from_date, @to_date) for @channel in
 * @market: one row for the window, or with `byDay` one row per day that had
 * spend, orders or sessions (the daily series the jump check judges). One
 * definition, so a daily KPI is exactly what the KPI step measures over a day.
 */
export function kpiComponentsSql(wh: Warehouse, plan: RolloutPlan, byDay: boolean): string {
  const d = wh.dialect;
  const t = (s: Parameters<typeof sourceTable>[1]) => d.table(sourceTable(plan, s));
  const q = (c: string) => d.quote(c);
  const inWindow = (column: string) => `${column} >= CAST(@from_date AS TIMESTAMP) AND ${column} < CAST(@to_date AS TIMESTAMP)`;
  const dayOf = (column: string) => d.cast(d.cast(column, 'date'), 'string');
  const day = (column: string) => (byDay ? `${dayOf(column)} AS day, ` : '');
  const perDay = (column: string) => (byDay ? ` GROUP BY ${dayOf(column)}` : '');
  const components = `spend.spend, spend.market_spend, orders_agg.revenue, orders_agg.market_revenue, orders_agg.margin,
           orders_agg.returned_revenue, orders_agg.customers, orders_agg.new_customers, visitors.visitors`;
  return `
    WITH spend AS (
      SELECT ${day(q('spend_date'))}
        SUM(CASE WHEN ${q('channel')} = @channel THEN ${q('spend')} ELSE 0 END) AS spend,
        SUM(${q('spend')}) AS market_spend
      FROM ${t('spend')}
      WHERE ${q('market')} = @market AND ${q('spend_date')} >= CAST(@from_date AS DATE) AND ${q('spend_date')} < CAST(@to_date AS DATE)${perDay(q('spend_date'))}
    ),
    first_orders AS (
      SELECT ${q('user_id')}, MIN(${q('order_ts')}) AS first_ts FROM ${t('orders')} GROUP BY ${q('user_id')}
    ),
    window_orders AS (
      SELECT ${day(`o.${q('order_ts')}`)}o.${q('user_id')}, o.${q('channel')}, o.${q('revenue')}, o.${q('margin')}, o.${q('returned')}, o.${q('order_ts')}, f.first_ts
      FROM ${t('orders')} o JOIN first_orders f ON f.${q('user_id')} = o.${q('user_id')}
      WHERE o.${q('market')} = @market AND ${inWindow(`o.${q('order_ts')}`)}
    ),
    orders_agg AS (
      SELECT ${byDay ? 'day, ' : ''}
        SUM(CASE WHEN ${q('channel')} = @channel THEN ${q('revenue')} ELSE 0 END) AS revenue,
        SUM(${q('revenue')}) AS market_revenue,
        SUM(CASE WHEN ${q('channel')} = @channel THEN ${q('margin')} ELSE 0 END) AS margin,
        SUM(CASE WHEN ${q('channel')} = @channel AND ${q('returned')} THEN ${q('revenue')} ELSE 0 END) AS returned_revenue,
        COUNT(DISTINCT CASE WHEN ${q('channel')} = @channel THEN ${q('user_id')} END) AS customers,
        COUNT(DISTINCT CASE WHEN ${q('channel')} = @channel AND ${q('order_ts')} = first_ts THEN ${q('user_id')} END) AS new_customers
      FROM window_orders${byDay ? ' GROUP BY day' : ''}
    ),
    visitors AS (
      SELECT ${day(q('started_at'))}COUNT(DISTINCT ${q('user_id')}) AS visitors FROM ${t('sessions')}
      WHERE ${q('channel')} = @channel AND ${q('market')} = @market AND ${inWindow(q('started_at'))}${perDay(q('started_at'))}
    )${
      byDay
        ? `,
    days AS (SELECT day FROM spend UNION DISTINCT SELECT day FROM orders_agg UNION DISTINCT SELECT day FROM visitors)
    SELECT days.day AS day, ${components}
    FROM days
    LEFT JOIN spend ON spend.day = days.day
    LEFT JOIN orders_agg ON orders_agg.day = days.day
    LEFT JOIN visitors ON visitors.day = days.day`
        : `
    SELECT ${components}
    FROM spend CROSS JOIN orders_agg CROSS JOIN visitors`
    }`;
}

/** All KPI ingredients in one pass over the warehouse; only these aggregates leave it. */
export async function measureKpiComponents(wh: Warehouse, plan: RolloutPlan, from: string, to: string): Promise<KpiComponents> {
  const sql = kpiComponentsSql(wh, plan, false);
  const [row] = await wh.query<Record<keyof KpiComponents, number | null>>(sql, {
    channel: plan.kpi.channel,
    market: plan.kpi.market,
    from_date: from,
    to_date: to,
  });
  return kpiComponentsOf(row ?? {});
}

const KPI_COMPONENTS: readonly (keyof KpiComponents)[] = ['spend', 'market_spend', 'revenue', 'market_revenue', 'margin', 'returned_revenue', 'customers', 'new_customers', 'visitors'];

/**
 * A row of kpiComponentsSql as numbers. Money is summed from cents; a parallel sum's last bits depend
 * on thread order, so it is rounded back to cents and a retried step measures exactly what the first
 * attempt did (counts are whole, so the rounding leaves them as they are).
 */
export function kpiComponentsOf(row: Record<string, unknown>): KpiComponents {
  const out = {} as KpiComponents;
  for (const key of KPI_COMPONENTS) out[key] = Math.round(Number(row[key] ?? 0) * 100) / 100;
  return out;
}

export function kpiValue(metric: RolloutPlan['kpi']['metric'], c: KpiComponents): number | null {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : null);
  switch (metric) {
    case 'cac':
      return ratio(c.spend, c.new_customers);
    case 'conversion_rate':
      return ratio(c.customers, c.visitors);
    case 'roas':
      return ratio(c.revenue, c.spend);
    case 'mer':
      return ratio(c.market_revenue, c.market_spend);
    case 'clv':
      return ratio(c.revenue - c.returned_revenue, c.customers);
    case 'contribution_margin':
      return c.margin - c.spend;
  }
}

export function createKpiActivities({ warehouse }: ActivityDependencies) {
  return {
    /** Step 1: measures the KPI's baseline over the plan's window and records the KPI spec. */
    async measureKpiBaseline({ ctx, plan }: { ctx: RolloutContext; plan: RolloutPlan }): Promise<KpiBaseline> {
      const to = plan.windows.asOf;
      const from = addDaysIso(to, -plan.kpi.baselineDays);
      // A missing source is the inventory's to report (as a blocking gap, with every other gap); here it only means no baseline.
      const needed = (['spend', 'orders', 'sessions'] as const).map((source) => sourceTable(plan, source));
      const missing = [];
      for (const table of needed) if (!(await warehouse.tableExists(table))) missing.push(formatTable(table));
      if (missing.length > 0) {
        log.warn('KPI baseline not measurable: source tables missing', { missing });
        return { metric: plan.kpi.metric, baseline: null, target: null, window: { from, to }, components: {}, missingSources: missing };
      }
      const components = await measureKpiComponents(stepWarehouse(warehouse, ctx, plan), plan, from, to);
      const baseline = kpiValue(plan.kpi.metric, components);
      const target = baseline === null ? null : baseline * (1 + plan.kpi.targetChange);
      await upsertAimoRow(warehouse, 'kpi_specs', {
        workflow_id: ctx.workflowId,
        use_case: ctx.useCase,
        metric: plan.kpi.metric,
        channel: plan.kpi.channel,
        market: plan.kpi.market,
        baseline,
        target,
        target_change: plan.kpi.targetChange,
        deadline: plan.kpi.deadline,
        window_from: from,
        window_to: to,
        spec_json: JSON.stringify(plan.kpi),
      });
      log.info('KPI baseline measured', { metric: plan.kpi.metric, baseline, target });
      return { metric: plan.kpi.metric, baseline, target, window: { from, to }, components: { ...components } };
    },
  };
}
