import type { DriftCheck, WindowFilter } from '../domain/drift';
import type { Dialect } from '../warehouse/dialect';
import type { SqlParams, SqlValue } from '../warehouse/params';

/**
 * The SQL of a drift check. Every alias is quoted: Snowflake upper-cases bare
 * aliases, and the result keys must read the same on every warehouse. Compared
 * columns travel under positional aliases (col_0, col_1, …) so that a feature
 * name never has to fit inside a longer identifier.
 */

export type ColumnKind = 'numeric' | 'categorical' | 'prediction';

export interface ComparedColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Position in the windows relation: the column is `col_<index>` */
  readonly index: number;
}

export interface Query {
  readonly sql: string;
  readonly params: SqlParams;
}

type WindowName = 'reference' | 'current';

export function comparedColumns(check: DriftCheck): ComparedColumn[] {
  const named: Array<{ name: string; kind: ColumnKind }> = [
    ...check.numericFeatures.map((name) => ({ name, kind: 'numeric' as const })),
    ...check.categoricalFeatures.map((name) => ({ name, kind: 'categorical' as const })),
    ...(check.prediction ? [{ name: check.prediction, kind: 'prediction' as const }] : []),
  ];
  return named.map((c, index) => ({ ...c, index }));
}

export const isNumericKind = (c: ComparedColumn): boolean => c.kind !== 'categorical';

export function columnAlias(c: ComparedColumn): string {
  return `col_${c.index}`;
}

/** Rows per window: cheap, and run first so an empty window fails before the heavy scans. */
export function windowRowsQuery(d: Dialect, check: DriftCheck): Query {
  const ref = windowSource(d, check, 'reference');
  const cur = windowSource(d, check, 'current');
  return {
    sql:
      `SELECT 1 AS ${d.quote('is_reference')}, COUNT(*) AS ${d.quote('row_count')} FROM ${ref.from} WHERE ${ref.where}\n` +
      `UNION ALL\nSELECT 0, COUNT(*) FROM ${cur.from} WHERE ${cur.where}`,
    params: { ...ref.params, ...cur.params },
  };
}

/** One scan of the reference: minimum and the bins − 1 inner quantiles of every numeric column. */
export function referenceQuantilesQuery(d: Dialect, check: DriftCheck, numeric: readonly ComparedColumn[]): Query {
  const ref = windowSource(d, check, 'reference');
  const selects = numeric.flatMap((c) => {
    const value = d.cast(d.quote(c.name), 'float');
    const quantiles = range(1, check.bins).map((k) => `${d.approxQuantile(value, k / check.bins)} AS ${d.quote(`q_${c.index}_${k}`)}`);
    return [`MIN(${value}) AS ${d.quote(`min_${c.index}`)}`, ...quantiles];
  });
  return { sql: `SELECT ${selects.join(',\n  ')}\nFROM ${ref.from} WHERE ${ref.where}`, params: ref.params };
}

/**
 * One row per window: its row count, the non-null count of every compared
 * column, and the count of every numeric bin. Bins are (−∞, e1), [e1, e2), …,
 * [ek, +∞); a NULL compares as unknown, so it falls into no bin.
 */
export function histogramQuery(
  d: Dialect,
  check: DriftCheck,
  columns: readonly ComparedColumn[],
  edgesByColumn: ReadonlyMap<number, readonly number[]>,
): Query {
  const windows = windowsRelation(d, check, columns);
  const params: Record<string, SqlValue> = { ...windows.params };
  const selects = [`${d.quote('is_reference')}`, `COUNT(*) AS ${d.quote('row_count')}`];
  for (const c of columns) {
    const value = d.quote(columnAlias(c));
    selects.push(`COUNT(${value}) AS ${d.quote(`values_${c.index}`)}`);
    const edges = edgesByColumn.get(c.index);
    if (!edges) continue;
    const edge = (k: number): string => {
      const name = `edge_${c.index}_${k}`;
      params[name] = edges[k]!;
      return d.cast(`@${name}`, 'float');
    };
    range(0, edges.length + 1).forEach((bin) => {
      const above = bin === 0 ? `${value} IS NOT NULL` : `${value} >= ${edge(bin - 1)}`;
      const below = bin === edges.length ? '' : ` AND ${value} < ${edge(bin)}`;
      selects.push(`SUM(CASE WHEN ${above}${below} THEN 1 ELSE 0 END) AS ${d.quote(`bin_${c.index}_${bin}`)}`);
    });
  }
  return {
    sql: `WITH ${d.quote('drift_windows')} AS (\n${windows.sql}\n)\nSELECT ${selects.join(',\n  ')}\nFROM ${d.quote('drift_windows')} GROUP BY ${d.quote('is_reference')}`,
    params,
  };
}

/**
 * The two-sample Kolmogorov–Smirnov statistic of every numeric column,
 * exact: sup |F_ref(x) − F_cur(x)|, where both empirical CDFs only step at
 * observed values, so the supremum is a maximum over the distinct values of
 * both windows. Values are grouped first, so the window functions run over
 * distinct values, not rows; the columns are unpivoted so each table is
 * scanned once.
 */
export function ksQuery(d: Dialect, check: DriftCheck, columns: readonly ComparedColumn[], numeric: readonly ComparedColumn[]): Query {
  const q = (name: string): string => d.quote(name);
  const windows = windowsRelation(d, check, columns);
  const running = (column: string): string =>
    `SUM(${q(column)}) OVER (PARTITION BY ${q('feature_index')} ORDER BY ${q('value')} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  const total = (column: string): string => `SUM(${q(column)}) OVER (PARTITION BY ${q('feature_index')})`;
  const share = (count: string, of: string): string => `${d.cast(q(count), 'float')} / ${d.cast(q(of), 'float')}`;
  const sql = `WITH ${q('drift_windows')} AS (
${windows.sql}
),
${unpivot(d, numeric, 'value')},
${q('by_value')} AS (
  SELECT ${q('feature_index')}, ${q('value')},
    SUM(${q('is_reference')}) AS ${q('reference_n')}, SUM(1 - ${q('is_reference')}) AS ${q('current_n')}
  FROM ${q('observed')} WHERE ${q('value')} IS NOT NULL
  GROUP BY ${q('feature_index')}, ${q('value')}
),
${q('cumulative')} AS (
  SELECT ${q('feature_index')},
    ${running('reference_n')} AS ${q('reference_cum')},
    ${running('current_n')} AS ${q('current_cum')},
    ${total('reference_n')} AS ${q('reference_total')},
    ${total('current_n')} AS ${q('current_total')}
  FROM ${q('by_value')}
)
SELECT ${q('feature_index')}, MAX(ABS(${share('reference_cum', 'reference_total')} - ${share('current_cum', 'current_total')})) AS ${q('ks')}
FROM ${q('cumulative')} WHERE ${q('reference_total')} > 0 AND ${q('current_total')} > 0
GROUP BY ${q('feature_index')}`;
  return { sql, params: windows.params };
}

/**
 * Category counts per window of every categorical column. The
 * `maxCategories` categories with the largest share (reference share plus
 * current share, so neither window's size dominates) are kept; the rest are
 * pooled under a NULL category. Each bucket carries its rank for ordering.
 */
export function categoryQuery(
  d: Dialect,
  check: DriftCheck,
  columns: readonly ComparedColumn[],
  categorical: readonly ComparedColumn[],
): Query {
  const q = (name: string): string => d.quote(name);
  const windows = windowsRelation(d, check, columns);
  const shareOf = (count: string, total: string): string =>
    `COALESCE(${d.cast(q(count), 'float')} / NULLIF(${d.cast(q(total), 'float')}, 0), 0)`;
  // The combined share is a column of its own before ROW_NUMBER orders by it: bqemulator refuses a
  // window ordered by that expression ("ORDER BY window expressions cannot be volatile").
  const sql = `WITH ${q('drift_windows')} AS (
${windows.sql}
),
${unpivot(d, categorical, 'category')},
${q('counts')} AS (
  SELECT ${q('feature_index')}, ${q('category')},
    SUM(${q('is_reference')}) AS ${q('reference_n')}, SUM(1 - ${q('is_reference')}) AS ${q('current_n')}
  FROM ${q('observed')} WHERE ${q('category')} IS NOT NULL
  GROUP BY ${q('feature_index')}, ${q('category')}
),
${q('totals')} AS (
  SELECT ${q('feature_index')}, ${q('category')}, ${q('reference_n')}, ${q('current_n')},
    SUM(${q('reference_n')}) OVER (PARTITION BY ${q('feature_index')}) AS ${q('reference_total')},
    SUM(${q('current_n')}) OVER (PARTITION BY ${q('feature_index')}) AS ${q('current_total')}
  FROM ${q('counts')}
),
${q('shares')} AS (
  SELECT ${q('feature_index')}, ${q('category')}, ${q('reference_n')}, ${q('current_n')},
    ${shareOf('reference_n', 'reference_total')} + ${shareOf('current_n', 'current_total')} AS ${q('combined_share')}
  FROM ${q('totals')}
),
${q('ranked')} AS (
  SELECT ${q('feature_index')}, ${q('category')}, ${q('reference_n')}, ${q('current_n')},
    ROW_NUMBER() OVER (PARTITION BY ${q('feature_index')} ORDER BY ${q('combined_share')} DESC, ${q('category')}) AS ${q('category_rank')}
  FROM ${q('shares')}
),
${q('bucketed')} AS (
  SELECT ${q('feature_index')}, ${q('reference_n')}, ${q('current_n')}, ${q('category_rank')},
    CASE WHEN ${q('category_rank')} <= @max_categories THEN ${q('category')} END AS ${q('category')}
  FROM ${q('ranked')}
)
SELECT ${q('feature_index')}, ${q('category')}, MIN(${q('category_rank')}) AS ${q('category_rank')},
  SUM(${q('reference_n')}) AS ${q('reference_n')}, SUM(${q('current_n')}) AS ${q('current_n')}
FROM ${q('bucketed')}
GROUP BY ${q('feature_index')}, ${q('category')}`;
  return { sql, params: { ...windows.params, max_categories: check.maxCategories } };
}

/**
 * Both windows as one relation: is_reference (1/0) and the compared columns,
 * numeric ones as floats and categorical ones as strings so the two halves of
 * the UNION agree on types whatever the tables declare.
 */
function windowsRelation(d: Dialect, check: DriftCheck, columns: readonly ComparedColumn[]): Query {
  const project = (isReference: 0 | 1): string =>
    [
      `${isReference} AS ${d.quote('is_reference')}`,
      ...columns.map((c) => `${d.cast(d.quote(c.name), isNumericKind(c) ? 'float' : 'string')} AS ${d.quote(columnAlias(c))}`),
    ].join(', ');
  const ref = windowSource(d, check, 'reference');
  const cur = windowSource(d, check, 'current');
  return {
    sql:
      `  SELECT ${project(1)} FROM ${ref.from} WHERE ${ref.where}\n` +
      `  UNION ALL\n` +
      `  SELECT ${project(0)} FROM ${cur.from} WHERE ${cur.where}`,
    params: { ...ref.params, ...cur.params },
  };
}

/** `observed`: one row per window row and compared column, (feature_index, <valueAlias>, is_reference). */
function unpivot(d: Dialect, columns: readonly ComparedColumn[], valueAlias: string): string {
  const q = (name: string): string => d.quote(name);
  const indexes = columns.map((c) => `SELECT ${c.index} AS ${q('feature_index')}`).join(' UNION ALL ');
  const pick = columns.map((c) => `WHEN ${c.index} THEN w.${q(columnAlias(c))}`).join(' ');
  return `${q('feature_indexes')} AS (${indexes}),
${q('observed')} AS (
  SELECT f.${q('feature_index')}, CASE f.${q('feature_index')} ${pick} END AS ${q(valueAlias)}, w.${q('is_reference')}
  FROM ${q('drift_windows')} w CROSS JOIN ${q('feature_indexes')} f
)`;
}

function windowSource(d: Dialect, check: DriftCheck, window: WindowName): { from: string; where: string; params: SqlParams } {
  const { table, filter = [] } = check[window];
  const params: Record<string, SqlValue> = {};
  const conditions = filter.flatMap((f, i) => filterConditions(d, f, `${window}_filter_${i}`, params));
  return { from: d.table(table), where: conditions.length ? conditions.join(' AND ') : '1 = 1', params };
}

function filterConditions(d: Dialect, filter: WindowFilter, param: string, params: Record<string, SqlValue>): string[] {
  const column = d.quote(filter.column);
  const bind = (suffix: string, value: SqlValue): string => {
    params[`${param}_${suffix}`] = value;
    return `@${param}_${suffix}`;
  };
  if (filter.value !== undefined) return [`${column} = ${bind('value', filter.value)}`];
  return [
    ...(filter.from !== undefined ? [`${column} >= ${bind('from', filter.from)}`] : []),
    ...(filter.to !== undefined ? [`${column} < ${bind('to', filter.to)}`] : []),
  ];
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}
