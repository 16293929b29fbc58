import type { DriftCheck, WindowFilter } from '../domain/drift';
import type { Dialect } from '../warehouse/dialect';
import type { SqlParams, SqlValue } from '../warehouse/params';
import { sqlNumber } from './sql';

/**
 * The SQL of a drift check. Every alias is quoted: Snowflake upper-cases bare
 * aliases, and the result keys must read the same on every warehouse. Compared
 * columns travel under positional aliases (col_0, col_1, …) so that a feature
 * name never has to fit inside a longer identifier.
 *
 * Two passes over each window, memory bounded by bins, not rows: a profile
 * (counts, range, the reference's spread, distinct categories), then counts
 * per fine bin and category, from which the PSI bins are read too. Each
 * column is aggregated on its own, never unpivoted: a columnar warehouse
 * reads one column per aggregate, and the groups are bins or categories,
 * never raw values. Exact KS adds a third, narrow pass that groups raw values
 * only inside the few fine bins where they can matter.
 */

export type ColumnKind = 'numeric' | 'categorical' | 'prediction';

export interface ComparedColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  /** Position in the check: aliases and result rows carry it as `_<index>` */
  readonly index: number;
}

export interface Query {
  readonly sql: string;
  readonly params: SqlParams;
}

type WindowName = 'reference' | 'current';

/** Equal-width bins over both windows' range: fine enough that KS is bracketed within 1/1024 of a window in most bins. */
export const FINE_BINS = 1024;
/**
 * The most bins exact KS brackets the statistic with before it reads raw
 * values: 64 per fine bin, so on a million rows a bin holds a few dozen
 * values and only the few bins near the largest CDF difference stay open.
 */
export const KS_BRACKET_BINS = 65_536;

/** Bins for the exact-KS bracket of a window of `values`: about 16 values a bin, between 4 and 64 per fine bin. */
export function ksBracketBins(values: number): number {
  const wanted = 2 ** Math.ceil(Math.log2(Math.max(1, values / 16)));
  return Math.min(KS_BRACKET_BINS, Math.max(4 * FINE_BINS, wanted));
}

export function comparedColumns(check: DriftCheck): ComparedColumn[] {
  const named: Array<{ name: string; kind: ColumnKind }> = [
    ...check.numericFeatures.map((name) => ({ name, kind: 'numeric' as const })),
    ...check.categoricalFeatures.map((name) => ({ name, kind: 'categorical' as const })),
    ...(check.prediction ? [{ name: check.prediction, kind: 'prediction' as const }] : []),
  ];
  return named.map((c, index) => ({ ...c, index }));
}

export const isNumericKind = (c: ComparedColumn): boolean => c.kind !== 'categorical';

/**
 * Pass 1, one ungrouped aggregate per window (so a warehouse can answer
 * counts and ranges from its column statistics): its row count; per numeric
 * column its non-null count and range, and in the reference its standard
 * deviation; per categorical column its approximate number of distinct values.
 */
export function profileQuery(d: Dialect, check: DriftCheck, columns: readonly ComparedColumn[]): Query {
  const q = (name: string): string => d.quote(name);
  const windowProfile = (window: WindowName): Query => {
    const isReference = window === 'reference';
    const selects = [`${isReference ? 1 : 0} AS ${q('is_reference')}`, `COUNT(*) AS ${q('row_count')}`];
    for (const c of columns) {
      const v = q(`col_${c.index}`);
      selects.push(`COUNT(${v}) AS ${q(`values_${c.index}`)}`);
      if (isNumericKind(c)) {
        const std = isReference ? `STDDEV_POP(${v})` : d.cast('NULL', 'float');
        selects.push(`MIN(${v}) AS ${q(`min_${c.index}`)}`, `MAX(${v}) AS ${q(`max_${c.index}`)}`, `${std} AS ${q(`std_${c.index}`)}`);
      } else {
        selects.push(`${d.approxCountDistinct(v)} AS ${q(`distinct_${c.index}`)}`);
      }
    }
    const rows = windowRows(d, check, columns, window);
    return { sql: `SELECT ${selects.join(',\n  ')}\nFROM (${rows.sql}) ${q(`${window}_rows`)}`, params: rows.params };
  };
  const reference = windowProfile('reference');
  const current = windowProfile('current');
  return { sql: `${reference.sql}\nUNION ALL\n${current.sql}`, params: { ...reference.params, ...current.params } };
}

/** How a numeric column is cut into fine bins of equal width over both windows' range. */
export interface NumericBinning {
  readonly column: ComparedColumn;
  /** Lowest value of either window */
  readonly low: number;
  /** Bins per unit: bins / range; 0 for a column constant over both windows (one bin) */
  readonly scale: number;
  /** How many bins span the range: FINE_BINS unless said otherwise */
  readonly bins?: number;
  /**
   * Bins of equal width in t = ln(1 + (v − low) / shift) instead of v, where
   * set: a monotone stretch for a long right tail, so bins stay fine where the
   * values are. `scale` is then bins per unit of t.
   */
  readonly shift?: number;
}

/** The lowest value of a bin, or of the bin boundary `bin` (fractional bins in between), under a binning. */
function binStart(b: NumericBinning, bin: number): number {
  if (b.scale <= 0) return b.low;
  return b.shift === undefined ? b.low + bin / b.scale : b.low + b.shift * Math.expm1(bin / b.scale);
}

/**
 * Pass 2, counts per bin, one aggregate per column (UNION ALL of one
 * GROUP BY each, so each reads only its own column). Numeric rows:
 * (feature_index, is_reference, fine_bin) with the count, sum, minimum and
 * maximum of the values in it; NULL values form the group with fine_bin
 * NULL. Categorical rows: (feature_index, is_reference, category).
 */
export function binCountsQuery(d: Dialect, check: DriftCheck, numeric: readonly NumericBinning[], categorical: readonly ComparedColumn[]): Query {
  const q = (name: string): string => d.quote(name);
  const params: Record<string, SqlValue> = {};
  const nullOf = (t: 'int' | 'float' | 'string'): string => d.cast('NULL', t);
  const branches: string[] = [];
  for (const b of numeric) {
    const i = b.column.index;
    const windows = windowsRelation(d, check, [b.column]);
    Object.assign(params, windows.params);
    const v = q(`col_${i}`);
    branches.push(
      `SELECT ${i} AS ${q('feature_index')}, ${q('is_reference')}, ${q('fine_bin')}, ${nullOf('string')} AS ${q('category')},
    COUNT(*) AS ${q('n')}, SUM(${v}) AS ${q('value_sum')}, MIN(${v}) AS ${q('value_min')}, MAX(${v}) AS ${q('value_max')}
  FROM (SELECT ${q('is_reference')}, ${v}, ${fineBin(d, v, b)} AS ${q('fine_bin')}
        FROM (\n${windows.sql}\n) ${q('w')}) ${q('b')}
  GROUP BY ${q('is_reference')}, ${q('fine_bin')}`,
    );
  }
  for (const c of categorical) {
    const windows = windowsRelation(d, check, [c]);
    Object.assign(params, windows.params);
    branches.push(
      `SELECT ${c.index} AS ${q('feature_index')}, ${q('is_reference')}, ${nullOf('int')} AS ${q('fine_bin')}, ${q(`col_${c.index}`)} AS ${q('category')},
    COUNT(*) AS ${q('n')}, ${nullOf('float')} AS ${q('value_sum')}, ${nullOf('float')} AS ${q('value_min')}, ${nullOf('float')} AS ${q('value_max')}
  FROM (\n${windows.sql}\n) ${q('w')}
  GROUP BY ${q('is_reference')}, ${q(`col_${c.index}`)}`,
    );
  }
  return { sql: branches.join('\nUNION ALL\n'), params };
}

/** A run of fine bins to look inside, both ends included. */
export interface BinRange {
  readonly from: number;
  readonly to: number;
}

export interface Refinement {
  readonly binning: NumericBinning;
  readonly ranges: readonly BinRange[];
  readonly referenceValues: number;
  readonly currentValues: number;
}

export interface KsBracket {
  readonly binning: NumericBinning;
  readonly referenceValues: number;
  readonly currentValues: number;
}

/**
 * Pass 3a, exact KS: the CDF difference at every boundary of up to
 * KS_BRACKET_BINS bins, computed in the warehouse (counts per bin, then running sums over
 * the bins), so that only the open bins come back: those inside which the
 * difference could still exceed the largest one found at a boundary. Each
 * feature's first bin comes back too,
 * carrying that lower bound (`lower`) whether or not a bin is open.
 */
export function ksBracketQuery(d: Dialect, check: DriftCheck, brackets: readonly KsBracket[]): Query {
  const q = (name: string): string => d.quote(name);
  const params: Record<string, SqlValue> = {};
  const float = (name: string) => d.cast(q(name), 'float');
  const branches = brackets.map((b) => {
    const i = b.binning.column.index;
    const windows = windowsRelation(d, check, [b.binning.column]);
    Object.assign(params, windows.params);
    const v = q(`col_${i}`);
    return `SELECT ${i} AS ${q('feature_index')}, ${q('fine_bin')},
    SUM(${q('is_reference')}) AS ${q('reference_n')}, COUNT(*) - SUM(${q('is_reference')}) AS ${q('current_n')},
    ${sqlNumber(d, b.referenceValues)} AS ${q('reference_total')}, ${sqlNumber(d, b.currentValues)} AS ${q('current_total')}
  FROM (SELECT ${q('is_reference')}, ${v}, ${fineBin(d, v, b.binning)} AS ${q('fine_bin')}
        FROM (\n${windows.sql}\n) ${q('w')} WHERE ${v} IS NOT NULL) ${q('b')}
  GROUP BY ${q('fine_bin')}`;
  });
  const running = (column: string): string =>
    `SUM(${q(column)}) OVER (PARTITION BY ${q('feature_index')} ORDER BY ${q('fine_bin')} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  const share = (n: string, total: string) => `${float(n)} / ${q(total)}`;
  const sql = `WITH ${q('by_bin')} AS (
${branches.join('\nUNION ALL\n')}
),
${q('cumulative')} AS (
  SELECT ${q('feature_index')}, ${q('fine_bin')},
    ${share('reference_n', 'reference_total')} AS ${q('reference_share')}, ${share('current_n', 'current_total')} AS ${q('current_share')},
    ${d.cast(running('reference_n'), 'float')} / ${q('reference_total')} - ${d.cast(running('current_n'), 'float')} / ${q('current_total')} AS ${q('after')}
  FROM ${q('by_bin')}
),
${q('bounded')} AS (
  SELECT ${q('feature_index')}, ${q('fine_bin')}, ${q('reference_share')}, ${q('current_share')},
    ${q('after')} - ${q('reference_share')} + ${q('current_share')} AS ${q('below')}, ${q('after')}
  FROM ${q('cumulative')}
),
${q('judged')} AS (
  SELECT ${q('feature_index')}, ${q('fine_bin')}, ${q('below')},
    GREATEST(${q('below')} + ${q('reference_share')}, ${q('current_share')} - ${q('below')}) AS ${q('high')},
    MAX(GREATEST(ABS(${q('below')}), ABS(${q('after')}))) OVER (PARTITION BY ${q('feature_index')}) AS ${q('lower')},
    MIN(${q('fine_bin')}) OVER (PARTITION BY ${q('feature_index')}) AS ${q('first_bin')}
  FROM ${q('bounded')}
)
SELECT ${q('feature_index')}, ${q('fine_bin')}, ${q('below')}, ${q('lower')},
  CASE WHEN ${q('high')} > ${q('lower')} THEN 1 ELSE 0 END AS ${q('open')}
FROM ${q('judged')}
WHERE ${q('fine_bin')} = ${q('first_bin')} OR ${q('high')} > ${q('lower')}`;
  return { sql, params };
}

/**
 * Pass 3b, exact KS where the bins cannot settle it: inside each
 * candidate bin, values are grouped (ties together) and walked in order, and
 * the largest and smallest CDF difference accumulated within the bin come
 * back; the difference at the bin's lower boundary is known from pass 2.
 * Only rows of candidate bins are grouped, so memory follows those bins.
 */
export function ksRefinementQuery(d: Dialect, check: DriftCheck, refinements: readonly Refinement[]): Query {
  const q = (name: string): string => d.quote(name);
  const params: Record<string, SqlValue> = {};
  const branches = refinements.map((r) => {
    const i = r.binning.column.index;
    const windows = windowsRelation(d, check, [r.binning.column]);
    Object.assign(params, windows.params);
    const v = q(`col_${i}`);
    // The ranges as value bounds, half a bin wider on each side: a comparison on the raw column is cheap
    // and lets the scan skip rows, where the fine-bin expression would be computed for every range. Values
    // of a neighbouring bin that slip in are grouped under their own bin and ignored.
    const bound = (bin: number) => sqlNumber(d, binStart(r.binning, bin));
    const merged = mergedRanges(r.ranges);
    // The hull of all ranges first: most rows fail that one comparison and skip the list of ranges.
    const hull = `${v} >= ${bound(merged[0]!.from - 0.5)} AND ${v} < ${bound(merged.at(-1)!.to + 1.5)}`;
    const inRanges = `${hull} AND (${merged.map((g) => `(${v} >= ${bound(g.from - 0.5)} AND ${v} < ${bound(g.to + 1.5)})`).join(' OR ')})`;
    return `SELECT ${i} AS ${q('feature_index')}, ${q('fine_bin')}, ${q('value')},
    SUM(${q('is_reference')}) AS ${q('reference_n')}, COUNT(*) - SUM(${q('is_reference')}) AS ${q('current_n')},
    ${sqlNumber(d, r.referenceValues)} AS ${q('reference_total')}, ${sqlNumber(d, r.currentValues)} AS ${q('current_total')}
  FROM (SELECT ${q('is_reference')}, ${v} AS ${q('value')}, ${fineBin(d, v, r.binning)} AS ${q('fine_bin')}
        FROM (\n${windows.sql}\n) ${q('w')} WHERE ${v} IS NOT NULL AND (${inRanges})) ${q('b')}
  GROUP BY ${q('fine_bin')}, ${q('value')}`;
  });
  const running = (column: string): string =>
    `SUM(${q(column)}) OVER (PARTITION BY ${q('feature_index')}, ${q('fine_bin')} ORDER BY ${q('value')} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`;
  const diff = `${d.cast(q('reference_cum'), 'float')} / ${q('reference_total')} - ${d.cast(q('current_cum'), 'float')} / ${q('current_total')}`;
  const sql = `WITH ${q('by_value')} AS (
${branches.join('\nUNION ALL\n')}
),
${q('cumulative')} AS (
  SELECT ${q('feature_index')}, ${q('fine_bin')}, ${q('reference_total')}, ${q('current_total')},
    ${running('reference_n')} AS ${q('reference_cum')}, ${running('current_n')} AS ${q('current_cum')}
  FROM ${q('by_value')}
)
SELECT ${q('feature_index')}, ${q('fine_bin')}, MAX(${diff}) AS ${q('inner_max')}, MIN(${diff}) AS ${q('inner_min')}
FROM ${q('cumulative')}
GROUP BY ${q('feature_index')}, ${q('fine_bin')}`;
  return { sql, params };
}

/** Runs a few bins apart are read as one (the bins between cost little), and never more than 32 runs. */
function mergedRanges(ranges: readonly BinRange[]): BinRange[] {
  const out: BinRange[] = [];
  for (const g of [...ranges].sort((a, b) => a.from - b.from)) {
    const last = out.at(-1);
    if (last && g.from - last.to <= 8) out[out.length - 1] = { from: last.from, to: Math.max(last.to, g.to) };
    else out.push({ ...g });
  }
  while (out.length > 32) {
    let closest = 1;
    for (let i = 2; i < out.length; i++) if (out[i]!.from - out[i - 1]!.to < out[closest]!.from - out[closest - 1]!.to) closest = i;
    out.splice(closest - 1, 2, { from: out[closest - 1]!.from, to: out[closest]!.to });
  }
  return out;
}

/**
 * The bin of a value under a binning, the same SQL text in every pass that
 * uses the binning, so each puts a value in the same bin. The range's top
 * value is clamped into the last bin.
 */
function fineBin(d: Dialect, v: string, b: NumericBinning): string {
  // GREATEST/LEAST skip NULLs on DuckDB, so a NULL value is kept NULL explicitly.
  const offset = `${v} - ${sqlNumber(d, b.low)}`;
  const position = b.shift === undefined ? `(${offset})` : `LN(1 + (${offset}) / ${sqlNumber(d, b.shift)})`;
  const floor = d.cast(`FLOOR(${position} * ${sqlNumber(d, b.scale)})`, 'int');
  return `CASE WHEN ${v} IS NULL THEN NULL ELSE LEAST(GREATEST(${floor}, 0), ${(b.bins ?? FINE_BINS) - 1}) END`;
}

/**
 * Category counts per window of a categorical column with many distinct
 * values, ranked and pooled in the warehouse so only `maxCategories` + 1
 * rows come back. The `maxCategories` categories with the largest share
 * (reference share plus current share, so neither window's size dominates)
 * are kept; the rest are pooled under a NULL category. Each bucket carries
 * its rank for ordering.
 */
export function categoryQuery(d: Dialect, check: DriftCheck, column: ComparedColumn): Query {
  const q = (name: string): string => d.quote(name);
  const windows = windowsRelation(d, check, [column]);
  const category = q(`col_${column.index}`);
  const shareOf = (count: string, total: string): string =>
    `COALESCE(${d.cast(q(count), 'float')} / NULLIF(${d.cast(q(total), 'float')}, 0), 0)`;
  // The combined share is a column of its own before ROW_NUMBER orders by it: bqemulator refuses a
  // window ordered by that expression ("ORDER BY window expressions cannot be volatile").
  const sql = `WITH ${q('counts')} AS (
  SELECT ${category} AS ${q('category')},
    SUM(${q('is_reference')}) AS ${q('reference_n')}, SUM(1 - ${q('is_reference')}) AS ${q('current_n')}
  FROM (\n${windows.sql}\n) ${q('w')} WHERE ${category} IS NOT NULL
  GROUP BY ${category}
),
${q('totals')} AS (
  SELECT ${q('category')}, ${q('reference_n')}, ${q('current_n')},
    SUM(${q('reference_n')}) OVER () AS ${q('reference_total')},
    SUM(${q('current_n')}) OVER () AS ${q('current_total')}
  FROM ${q('counts')}
),
${q('shares')} AS (
  SELECT ${q('category')}, ${q('reference_n')}, ${q('current_n')},
    ${shareOf('reference_n', 'reference_total')} + ${shareOf('current_n', 'current_total')} AS ${q('combined_share')}
  FROM ${q('totals')}
),
${q('ranked')} AS (
  SELECT ${q('category')}, ${q('reference_n')}, ${q('current_n')},
    ROW_NUMBER() OVER (ORDER BY ${q('combined_share')} DESC, ${q('category')}) AS ${q('category_rank')}
  FROM ${q('shares')}
),
${q('bucketed')} AS (
  SELECT ${q('reference_n')}, ${q('current_n')}, ${q('category_rank')},
    CASE WHEN ${q('category_rank')} <= @max_categories THEN ${q('category')} END AS ${q('category')}
  FROM ${q('ranked')}
)
SELECT ${q('category')}, MIN(${q('category_rank')}) AS ${q('category_rank')},
  SUM(${q('reference_n')}) AS ${q('reference_n')}, SUM(${q('current_n')}) AS ${q('current_n')}
FROM ${q('bucketed')}
GROUP BY ${q('category')}`;
  return { sql, params: { ...windows.params, max_categories: check.maxCategories } };
}

/**
 * One window's compared columns, numeric ones as floats and categorical ones
 * as strings so the two windows agree on types whatever the tables declare.
 */
function windowRows(d: Dialect, check: DriftCheck, columns: readonly ComparedColumn[], window: WindowName, marker = ''): Query {
  const source = windowSource(d, check, window);
  const projected = columns.map((c) => `${d.cast(d.quote(c.name), isNumericKind(c) ? 'float' : 'string')} AS ${d.quote(`col_${c.index}`)}`);
  return { sql: `SELECT ${[...(marker ? [marker] : []), ...projected].join(', ')} FROM ${source.from} WHERE ${source.where}`, params: source.params };
}

/** Both windows as one relation: is_reference (1/0) and the compared columns. */
function windowsRelation(d: Dialect, check: DriftCheck, columns: readonly ComparedColumn[]): Query {
  const ref = windowRows(d, check, columns, 'reference', `1 AS ${d.quote('is_reference')}`);
  const cur = windowRows(d, check, columns, 'current', `0 AS ${d.quote('is_reference')}`);
  return { sql: `  ${ref.sql}\n  UNION ALL\n  ${cur.sql}`, params: { ...ref.params, ...cur.params } };
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
