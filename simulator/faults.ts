import type { SimContext } from './context';
import type { SqlRandom } from './random';
import { num } from './sql';
import { DUPLICATABLE_TABLES, LATE_LOADING_TABLES, SOURCE_TABLES, type SourceTableName } from './tables';

/**
 * Data faults a real pipeline meets, planted at known rates so data-quality
 * checks can be tested against them: NULLs in chosen columns, rows delivered
 * twice (exact copies, as an at-least-once loader does) and rows loaded days
 * after they happened. Each fault is decided by the row's own hash, so the
 * same rows are faulty on every run.
 */

type ColumnExprs<T extends SourceTableName> = Record<keyof (typeof SOURCE_TABLES)[T]['columns'], string>;

/**
 * The SELECT that writes a source table from a row source: every column cast
 * to its contract type, null faults applied, duplicates expanded. `rowHash`
 * names the source's per-row hash column.
 */
export function sourceTableSelect<T extends SourceTableName>(
  ctx: SimContext,
  table: T,
  exprs: ColumnExprs<T>,
  from: string,
  rowHash: string,
): string {
  const spec = SOURCE_TABLES[table];
  const columns = Object.entries(spec.columns).map(([column, type]) => {
    const expr = withNullFault(ctx, table, column, exprs[column as keyof ColumnExprs<T>], rowHash);
    return `CAST(${expr} AS ${type}) AS ${ctx.wh.dialect.quote(column)}`;
  });
  const duplicateRate = duplicateRateOf(ctx, table);
  const source =
    duplicateRate > 0
      ? `(SELECT src.*, unnest(range(1 + CAST(${ctx.random.unit(`src.${rowHash}`, `duplicate:${table}`)} < ${num(duplicateRate)} AS INTEGER))) AS aimo_copy FROM ${from} src)`
      : from;
  return `SELECT ${columns.join(',\n       ')} FROM ${source} AS s`;
}

function withNullFault(ctx: SimContext, table: string, column: string, expr: string, rowHash: string): string {
  const rate = ctx.options.faults?.nullRate[`${table}.${column}`] ?? 0;
  if (rate <= 0) return expr;
  return `(CASE WHEN ${ctx.random.unit(`s.${rowHash}`, `null:${table}.${column}`)} < ${num(rate)} THEN NULL ELSE ${expr} END)`;
}

export function duplicateRateOf(ctx: SimContext, table: SourceTableName): number {
  const faults = ctx.options.faults;
  return faults && (DUPLICATABLE_TABLES as readonly string[]).includes(table) ? faults.duplicateRate : 0;
}

/** SQL: seconds between an event and its load on a normal day — 2 minutes to 2 hours */
export function loadedAfter(random: SqlRandom, rowHash: string, stream: string): string {
  return `CAST(120 + floor(${random.unit(rowHash, stream)} * 7080) AS BIGINT)`;
}

/** SQL: when a row was loaded — minutes after it happened (`happenedSecond`, since the period start), or 2–10 days for late rows */
export function loadedAt(ctx: SimContext, table: (typeof LATE_LOADING_TABLES)[number], happenedSecond: string, rowHash: string): string {
  const r = ctx.random;
  const onTime = loadedAfter(r, rowHash, `load_delay:${table}`);
  const lateRate = ctx.options.faults?.lateRowRate ?? 0;
  const delay =
    lateRate > 0
      ? `(CASE WHEN ${r.unit(rowHash, `late:${table}`)} < ${num(lateRate)} THEN CAST(172800 + floor(${r.unit(rowHash, `late_delay:${table}`)} * 691200) AS BIGINT) ELSE ${onTime} END)`
      : onTime;
  return ctx.timestampAt(`${happenedSecond} + ${delay}`);
}
