import { addDaysIso } from '../../domain/dates';
import type { SqlValue } from '../../warehouse/params';
import type { Warehouse } from '../../warehouse/warehouse';
import type { SimContext } from '../context';
import { DRIFT_FEATURES } from '../options';
import { int } from '../sql';
import { recordedOptionsJson } from '../state';
import { DUPLICATABLE_TABLES, LATE_LOADING_TABLES, TRUTH_TABLES, type TruthTableName } from '../tables';

/** The latent traits per user: what the simulated market "knows" and a model can only estimate. */
export async function writeTruthUsers(ctx: SimContext): Promise<void> {
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('truth_users')} AS
     SELECT user_id, market, segment,
            z_intent AS intent_z, z_engagement AS engagement_z,
            hazard AS daily_purchase_hazard, session_rate AS daily_session_rate, cart_rate,
            avg_order_value, return_rate, favourite_channel, device AS primary_device, consented, has_crm_id
     FROM ${ctx.work('users')}`,
  );
}

/** SQL: the true probability that each user orders at least once in a window of `windowDays` days. */
export function truthPropensitySql(wh: Warehouse, windowDays: number, schema = 'raw'): string {
  if (!Number.isInteger(windowDays) || windowDays < 1) throw new Error(`windowDays must be a positive integer, got ${windowDays}`);
  const q = (c: string) => wh.dialect.quote(c);
  return `SELECT ${q('user_id')}, 1 - exp(-${q('daily_purchase_hazard')} * ${int(windowDays)}) AS ${q('propensity')}
          FROM ${wh.dialect.table({ schema, name: 'truth_users' })}`;
}

export async function writeTruthPropensity(ctx: SimContext): Promise<void> {
  const windows = ctx.options.truthWindows.map((w) => `(${int(w)})`).join(', ');
  await ctx.wh.execute(
    `CREATE OR REPLACE TABLE ${ctx.table('truth_propensity')} AS
     SELECT user_id, CAST(w.window_days AS INTEGER) AS window_days, 1 - exp(-hazard * w.window_days) AS propensity
     FROM ${ctx.work('users')} CROSS JOIN (VALUES ${windows}) w(window_days)`,
  );
}

/** The planted uplift; simulateMarketResponse answers experiments with it unless told otherwise. */
export async function writeTruthEffect(ctx: SimContext): Promise<void> {
  await writeSmallTable(ctx.wh, ctx.options.schema, 'truth_effect', [{ metric: 'conversion_uplift_absolute', value: ctx.options.upliftAbsolute }]);
  // Experiments answered by the market land here; a fresh dataset has none.
  await writeSmallTable(ctx.wh, ctx.options.schema, 'truth_experiments', []);
}

export async function writeTruthDrift(ctx: SimContext): Promise<void> {
  const drift = ctx.options.drift;
  const rows = (drift?.features ?? []).map((feature) => ({
    feature,
    from_date: drift!.fromDate,
    source_column: DRIFT_FEATURES[feature].sourceColumn,
    description: DRIFT_FEATURES[feature].describe(drift!.strength),
  }));
  await writeSmallTable(ctx.wh, ctx.options.schema, 'truth_drift', rows);
}

export async function writeTruthFaults(ctx: SimContext): Promise<void> {
  const faults = ctx.options.faults;
  const rows: Record<string, SqlValue>[] = [];
  for (const [column, rate] of Object.entries(faults?.nullRate ?? {})) {
    if (rate <= 0) continue;
    const [table, name] = column.split('.') as [string, string];
    rows.push({ fault: 'null', table_name: table, column_name: name, rate });
  }
  if (faults && faults.duplicateRate > 0) {
    for (const table of DUPLICATABLE_TABLES) rows.push({ fault: 'duplicate', table_name: table, column_name: null, rate: faults.duplicateRate });
  }
  if (faults && faults.lateRowRate > 0) {
    for (const table of LATE_LOADING_TABLES) rows.push({ fault: 'late', table_name: table, column_name: 'loaded_at', rate: faults.lateRowRate });
  }
  await writeSmallTable(ctx.wh, ctx.options.schema, 'truth_faults', rows);
}

/** Per user, the daily purchase hazard from the concept drift's first day on; empty without concept drift. */
export async function writeTruthConceptDrift(ctx: SimContext): Promise<void> {
  const concept = ctx.options.conceptDrift;
  if (!concept) {
    await writeSmallTable(ctx.wh, ctx.options.schema, 'truth_concept_drift', []);
    return;
  }
  await ctx.wh.createOrReplaceTableAs(
    { schema: ctx.options.schema, name: 'truth_concept_drift' },
    `SELECT user_id, CAST(@concept_from AS DATE) AS from_date, concept_hazard AS daily_purchase_hazard FROM ${ctx.work('users')}`,
    { concept_from: concept.fromDate },
  );
}

/**
 * The dataset's state row, in a work table for the commit that stores the
 * days up to `lastDay` (a day index): calendar, the options summarised in
 * columns, and all of them as JSON — what appended days are simulated from.
 */
export async function writeTruthDatasetRow(ctx: SimContext, lastDay: number): Promise<void> {
  const o = ctx.options;
  const { sql, params } = smallTableSelect(ctx.wh, 'truth_dataset', [
    {
      seed: o.seed,
      users: o.users,
      start_date: o.startDate,
      end_date: addDaysIso(o.startDate, lastDay),
      days: lastDay + 1,
      markets: o.markets.join(','),
      consent_rate: o.consentRate,
      drift_from_date: o.drift?.fromDate ?? null,
      drift_features: o.drift ? o.drift.features.join(',') : null,
      drift_strength: o.drift?.strength ?? null,
      options: recordedOptionsJson(o),
    },
  ]);
  await ctx.wh.execute(`CREATE OR REPLACE TABLE ${ctx.work('out_truth_dataset')} AS ${sql}`, params);
}

/** SELECT of a few rows given as bound values, typed as the truth table says (no rows: an empty, typed table). */
export function smallTableSelect(wh: Warehouse, table: TruthTableName, rows: readonly Record<string, SqlValue>[]): { sql: string; params: Record<string, SqlValue> } {
  const columns = Object.entries(TRUTH_TABLES[table].columns);
  const params: Record<string, SqlValue> = {};
  const select = (row: Record<string, SqlValue> | null, i: number) =>
    `SELECT ${columns
      .map(([column, type]) => {
        if (!row) return `CAST(NULL AS ${type}) AS ${wh.dialect.quote(column)}`;
        params[`r${i}_${column}`] = row[column] ?? null;
        return `CAST(@r${i}_${column} AS ${type}) AS ${wh.dialect.quote(column)}`;
      })
      .join(', ')}`;
  const sql = rows.length ? rows.map((row, i) => select(row, i)).join(' UNION ALL ') : `${select(null, 0)} WHERE FALSE`;
  return { sql, params };
}

export async function writeSmallTable(wh: Warehouse, schema: string, table: TruthTableName, rows: readonly Record<string, SqlValue>[]): Promise<void> {
  const { sql, params } = smallTableSelect(wh, table, rows);
  await wh.createOrReplaceTableAs({ schema, name: table }, sql, params);
}
