import { NonRetryableError } from '../../domain/errors';
import { dataFreshness, FRESHNESS_COLUMNS, loopWindow, sourceFreshness, type DataFreshness, type FreshnessSource, type LoopKind, type LoopWindow } from '../../domain/loops/windows';
import { groupDigits } from '../../domain/rollout/format';
import type { RolloutPlan } from '../../domain/plan';
import { sourceTable } from '../../domain/propensity/sources';
import { runTable, type RolloutContext } from '../../domain/rollout/context';
import { formatTable } from '../../domain/table-ref';
import { stepWarehouse } from '../../store/query-context';
import type { Warehouse } from '../../warehouse/warehouse';
import type { ActivityDependencies } from '../dependencies';

/**
 * How far the plan's sources reach: the day of each one's newest row and its
 * newest complete day, read in one query of MAX aggregates (warehouses answer
 * them from column statistics, without scanning the rows).
 */
export async function newestCompleteDay(wh: Warehouse, plan: RolloutPlan): Promise<DataFreshness> {
  const d = wh.dialect;
  const sources = Object.keys(FRESHNESS_COLUMNS) as FreshnessSource[];
  const newest = sources.map((s) => `(SELECT ${d.cast(d.cast(`MAX(${d.quote(FRESHNESS_COLUMNS[s].column)})`, 'date'), 'string')} FROM ${d.table(sourceTable(plan, s))}) AS ${d.quote(s)}`);
  const [row] = await wh.query(`SELECT ${newest.join(',\n       ')}`);
  const empty = sources.filter((s) => row?.[s] == null);
  const missing = empty.filter((s) => FRESHNESS_COLUMNS[s].boundsWindows).map((s) => formatTable(sourceTable(plan, s)));
  if (missing.length > 0) {
    throw new NonRetryableError('NoData', `${missing.join(', ')} ${missing.length === 1 ? 'has' : 'have'} no rows, so no loop window can end in the data: load the data first`);
  }
  // An empty table no window reads is left out of the report rather than stopping the loop.
  const present = sources.filter((s) => !empty.includes(s));
  return dataFreshness(present.map((s) => sourceFreshness(s, formatTable(sourceTable(plan, s)), dayOf(row![s]))));
}

/** A DATE as the drivers hand it back: text, or a Date at midnight UTC. */
function dayOf(value: unknown): string {
  return (value instanceof Date ? value.toISOString() : String(value)).slice(0, 10);
}

export function createFreshnessActivities({ warehouse }: ActivityDependencies) {
  const windowOf = async (ctx: RolloutContext, plan: RolloutPlan, loop: LoopKind, asOf: string | undefined) => {
    const freshness = await newestCompleteDay(stepWarehouse(warehouse, ctx, plan), plan);
    const request = { loop, featureDays: plan.windows.featureDays, labelDays: plan.windows.labelDays };
    return { freshness, resolved: loopWindow(asOf === undefined ? request : { ...request, asOf }, freshness) };
  };
  return {
    /**
     * The window a loop run reads, fixed once in its history: from an explicit
     * asOf, or ending on the newest complete day of the data. Data that cannot
     * fill the window fails at once, naming each stale table and by how much.
     */
    async resolveLoopWindow({ ctx, plan, loop, asOf }: { ctx: RolloutContext; plan: RolloutPlan; loop: LoopKind; asOf?: string }): Promise<LoopWindow> {
      const { resolved, freshness } = await windowOf(ctx, plan, loop, asOf);
      if (!resolved.ok) throw new NonRetryableError('StaleData', resolved.problem, { freshness });
      return resolved.window;
    },

    /** Whether the data fills the window yet, and if not what is missing: a loop that may wait for its data asks this. */
    async loopWindowReady({ ctx, plan, loop, asOf }: { ctx: RolloutContext; plan: RolloutPlan; loop: LoopKind; asOf?: string }): Promise<{ ready: true } | { ready: false; problem: string }> {
      const { resolved } = await windowOf(ctx, plan, loop, asOf);
      return resolved.ok ? { ready: true } : { ready: false, problem: resolved.problem };
    },

    /**
     * Before anything is trained or evaluated on the retrain's features: both
     * the training and the holdout rows exist and hold both outcomes, so no
     * statistic is computed on an empty or one-class window.
     */
    async checkTrainingWindow({ ctx, plan, window }: { ctx: RolloutContext; plan: RolloutPlan; window: LoopWindow }): Promise<{ train: SplitCounts; holdout: SplitCounts }> {
      const wh = stepWarehouse(warehouse, ctx, plan);
      const q = (c: string) => wh.dialect.quote(c);
      const rows = await wh.query<{ split: string; n: unknown; positives: unknown }>(
        `SELECT ${q('split')} AS split, COUNT(*) AS n, SUM(CASE WHEN ${q('label')} = 1 THEN 1 ELSE 0 END) AS positives
         FROM ${wh.dialect.table(runTable(ctx, 'features'))} GROUP BY ${q('split')}`,
      );
      const counts = (split: string): SplitCounts => {
        const r = rows.find((x) => x.split === split);
        return { rows: Number(r?.n ?? 0), positives: Number(r?.positives ?? 0) };
      };
      const splits = { train: counts('train'), holdout: counts('holdout') };
      const problem = oneClassProblem('training', splits.train, plan, window) ?? oneClassProblem('holdout', splits.holdout, plan, window);
      if (problem) throw new NonRetryableError(problem.type, problem.message, splits);
      return splits;
    },
  };
}

interface SplitCounts {
  readonly rows: number;
  readonly positives: number;
}

function oneClassProblem(split: 'training' | 'holdout', counts: SplitCounts, plan: RolloutPlan, window: LoopWindow): { type: string; message: string } | undefined {
  const labels = `the label window ${window.asOf} – ${window.lastDay}`;
  const orders = formatTable(sourceTable(plan, 'orders'));
  if (counts.rows === 0) {
    return { type: 'NoTrainingRows', message: `no ${split} rows for the window ${window.from} – ${window.lastDay}: no consented user of market ${plan.kpi.market} signed up before ${window.asOf}` };
  }
  if (counts.positives === 0) {
    return {
      type: 'SingleClassLabel',
      message: `the label column \`label\` is 0 on all ${groupDigits(counts.rows)} ${split} rows: no one converted in ${labels} (${orders} has no order of these users in it); pass an asOf whose label window holds orders, or load them`,
    };
  }
  if (counts.positives === counts.rows) {
    return { type: 'SingleClassLabel', message: `the label column \`label\` is 1 on all ${groupDigits(counts.rows)} ${split} rows: everyone converted in ${labels}, so nothing tells buyers from the rest; check ${orders} and the plan's market` };
  }
  return undefined;
}
