import { addDaysIso } from '../../domain/dates';
import type { DailyValue } from '../../domain/loops/jumps';
import type { RolloutPlan } from '../../domain/plan';
import { sourceTable } from '../../domain/propensity/sources';
import type { TableRef } from '../../domain/table-ref';
import { aimoTable, ensureAimoTables } from '../../store/aimo-tables';
import type { Warehouse } from '../../warehouse/warehouse';
import { kpiComponentsOf, kpiComponentsSql, kpiValue } from '../propensity/kpi';

/**
 * The daily series the jump check watches, each read in one warehouse query
 * over [from, through] with only one row per day leaving the warehouse.
 */
export const JUMP_SERIES = {
  kpi: "the plan's KPI (its metric, channel and market) of each day",
  cost: "the plan's channel's ad spend in its market each day",
  'llm-cost': "the use case's paid LLM calls each day (aimo.llm_usage)",
  'model-capture': "share of each day's buyers of the plan's channel and market that the champion ranks in its top score decile",
} as const;
export type JumpSeriesName = keyof typeof JUMP_SERIES;

/**
 * The scale a series is judged on unless the settings say otherwise: log for
 * what is positive and grows noisier with its level (money, ratios of
 * counts), linear for a margin, which may be zero or negative.
 */
export function naturalScale(series: JumpSeriesName, plan: Pick<RolloutPlan, 'kpi'>): 'log' | 'linear' {
  return series === 'kpi' && plan.kpi.metric === 'contribution_margin' ? 'linear' : 'log';
}

/** Share of users the champion's top decile holds: model-capture's cut. */
export const TOP_SHARE = 0.1;

export interface NamedSeries {
  readonly series: JumpSeriesName;
  readonly values: DailyValue[];
}

/** A DATE as the drivers hand it back: text, or a Date at midnight UTC. */
function dayOf(value: unknown): string {
  return (value instanceof Date ? value.toISOString() : String(value)).slice(0, 10);
}

/** Every day of [from, through] with the value a row gave it, or `missing` for days without one. */
function everyDay(from: string, through: string, byDay: Map<string, number | null>, missing: number | null): DailyValue[] {
  const out: DailyValue[] = [];
  for (let day = from; day <= through; day = addDaysIso(day, 1)) out.push({ day, value: byDay.has(day) ? byDay.get(day)! : missing });
  return out;
}

/**
 * The KPI and the channel's spend of each day, from the same ingredients as
 * the rollout's KPI step (measureKpiComponents), grouped by day: one query.
 */
export async function kpiAndCostSeries(wh: Warehouse, plan: RolloutPlan, from: string, through: string): Promise<NamedSeries[]> {
  const sql = kpiComponentsSql(wh, plan, true);
  const rows = await wh.query<Record<string, unknown>>(sql, { channel: plan.kpi.channel, market: plan.kpi.market, from_date: from, to_date: addDaysIso(through, 1) });
  const kpi = new Map<string, number | null>();
  const cost = new Map<string, number | null>();
  for (const row of rows) {
    const c = kpiComponentsOf(row);
    const day = dayOf(row['day']);
    kpi.set(day, kpiValue(plan.kpi.metric, c));
    cost.set(day, c.spend);
  }
  // A day without rows had no spend; its KPI is unknown, not zero.
  return [
    { series: 'kpi', values: everyDay(from, through, kpi, null) },
    { series: 'cost', values: everyDay(from, through, cost, 0) },
  ];
}

/** The use case's LLM spend per day, from the ledger of paid calls; no series when it never paid for one. */
export async function llmCostSeries(wh: Warehouse, useCase: string, from: string, through: string): Promise<NamedSeries[]> {
  await ensureAimoTables(wh);
  const q = (c: string) => wh.dialect.quote(c);
  const rows = await wh.query<{ day: string; cost: unknown }>(
    `SELECT ${q('day')} AS day, SUM(${q('cost')}) AS cost FROM ${wh.dialect.table(aimoTable('llm_usage'))}
     WHERE ${q('use_case')} = @use_case AND ${q('day')} >= @from_day AND ${q('day')} <= @through_day GROUP BY ${q('day')}`,
    { use_case: useCase, from_day: from, through_day: through },
  );
  if (rows.length === 0) return [];
  // Cost to a millionth: the ledger sums fractions of cents, in any order.
  const byDay = new Map(rows.map((r) => [dayOf(r.day), Math.round(Number(r.cost ?? 0) * 1e6) / 1e6]));
  return [{ series: 'llm-cost', values: everyDay(from, through, byDay, 0) }];
}

/**
 * The champion's top-decile capture of each day: of the users who bought
 * through the plan's channel in its market that day, the share whose served
 * score ranks in the top TOP_SHARE of all served users. A model that stops
 * ranking buyers first shows here before its next retrain measures an AUC.
 */
export async function modelCaptureSeries(wh: Warehouse, plan: RolloutPlan, served: TableRef, from: string, through: string): Promise<NamedSeries[]> {
  const d = wh.dialect;
  const q = (c: string) => d.quote(c);
  const rows = await wh.query<{ day: string; capture: unknown }>(
    // Ranked rather than cut at an approximate quantile: the same scores put the same users on top on every run.
    `WITH scores AS (
       SELECT ${q('user_id')}, ROW_NUMBER() OVER (ORDER BY ${q('score')} DESC, ${q('user_id')}) AS score_rank, COUNT(*) OVER () AS scored
       FROM ${d.table(served)}
     ),
     buyers AS (
       SELECT DISTINCT ${d.cast(d.cast(q('order_ts'), 'date'), 'string')} AS day, ${q('user_id')} FROM ${d.table(sourceTable(plan, 'orders'))}
       WHERE ${q('channel')} = @channel AND ${q('market')} = @market
         AND ${q('order_ts')} >= CAST(@from_date AS TIMESTAMP) AND ${q('order_ts')} < CAST(@to_date AS TIMESTAMP)
     )
     SELECT b.day AS day, AVG(CASE WHEN s.score_rank <= s.scored * @top_share THEN 1.0 ELSE 0.0 END) AS capture
     FROM buyers b JOIN scores s ON s.${q('user_id')} = b.${q('user_id')}
     GROUP BY b.day`,
    { channel: plan.kpi.channel, market: plan.kpi.market, from_date: from, to_date: addDaysIso(through, 1), top_share: TOP_SHARE },
  );
  const byDay = new Map(rows.map((r) => [dayOf(r.day), Math.round(Number(r.capture) * 1e9) / 1e9]));
  return [{ series: 'model-capture', values: everyDay(from, through, byDay, null) }];
}
