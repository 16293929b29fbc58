import {
  assessCategoricalFeature,
  assessNumericFeature,
  binEdgesFromQuantiles,
  parseDriftCheck,
  summariseDrift,
  type DriftCheck,
  type DriftCheckInput,
  type DriftReport,
  type FeatureDrift,
} from '../domain/drift';
import { NonRetryableError } from '../domain/errors';
import type { TableRef } from '../domain/table-ref';
import type { QueryContext, Row, Warehouse } from '../warehouse/warehouse';
import {
  categoryQuery,
  comparedColumns,
  histogramQuery,
  isNumericKind,
  ksQuery,
  referenceQuantilesQuery,
  windowRowsQuery,
  type ComparedColumn,
} from './drift-sql';

export type { DriftCheckInput, DriftReport, FeatureDrift } from '../domain/drift';

/**
 * Drift of every named column between a reference window (the training data)
 * and a current window. The warehouse does the counting: reference quantiles,
 * bin counts, category counts and the exact KS statistic come back as a few
 * rows per column, never the rows themselves. Five queries at most:
 * window sizes, reference quantiles, histograms, KS, categories.
 */
export async function computeDrift(wh: Warehouse, input: DriftCheckInput, ctx?: QueryContext): Promise<DriftReport> {
  const check = parseDriftCheck(input);
  await assertColumnsExist(wh, check);
  const rows = await windowRows(wh, check, ctx);

  const columns = comparedColumns(check);
  const numeric = columns.filter(isNumericKind);
  const categorical = columns.filter((c) => !isNumericKind(c));
  const edges = await referenceBinEdges(wh, check, numeric, ctx);
  const histograms = await windowHistograms(wh, check, columns, edges, ctx);
  const ks = numeric.length ? await ksStatistics(wh, check, columns, numeric, ctx) : new Map<number, number>();
  const categories = categorical.length ? await categoryCounts(wh, check, columns, categorical, ctx) : new Map<number, CategoryCounts>();

  const features: FeatureDrift[] = columns.map((c) => {
    const nulls = { referenceNulls: rows.referenceRows - histograms.reference.values(c), currentNulls: rows.currentRows - histograms.current.values(c) };
    if (c.kind === 'categorical') {
      const counts = categories.get(c.index) ?? { categories: [], referenceCounts: [], currentCounts: [] };
      return assessCategoricalFeature({ feature: c.name, ...counts, ...nulls }, check.thresholds);
    }
    const columnEdges = edges.get(c.index) ?? [];
    return assessNumericFeature(
      {
        feature: c.name,
        kind: c.kind,
        edges: columnEdges,
        referenceCounts: histograms.reference.bins(c, columnEdges.length + 1),
        currentCounts: histograms.current.bins(c, columnEdges.length + 1),
        ...nulls,
        ks: ks.get(c.index) ?? null,
      },
      check.thresholds,
    );
  });
  return summariseDrift(features, check.thresholds, rows);
}

/** A typo in a feature name should name the feature and the table, not surface as a SQL binder error. */
async function assertColumnsExist(wh: Warehouse, check: DriftCheck): Promise<void> {
  const named = comparedColumns(check);
  for (const window of ['reference', 'current'] as const) {
    const { table, filter = [] } = check[window];
    const present = new Set((await wh.columns(table)).map((c) => c.name.toLowerCase()));
    const missing = [
      ...named.filter((c) => !present.has(c.name.toLowerCase())).map((c) => `${fieldOf(c)} "${c.name}"`),
      ...filter.filter((f) => !present.has(f.column.toLowerCase())).map((f) => `${window}.filter column "${f.column}"`),
    ];
    if (missing.length) {
      throw new NonRetryableError(
        'MissingColumn',
        `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not a column of ${tableName(table)} (${window} window): fix the name or the table`,
      );
    }
  }
}

async function windowRows(wh: Warehouse, check: DriftCheck, ctx?: QueryContext): Promise<{ referenceRows: number; currentRows: number }> {
  const { sql, params } = windowRowsQuery(wh.dialect, check);
  const result = await wh.query(sql, params, ctx);
  const count = (isReference: number): number => countOf(result.find((r) => countOf(r['is_reference']) === isReference)?.['row_count']);
  const rows = { referenceRows: count(1), currentRows: count(0) };
  for (const window of ['reference', 'current'] as const) {
    if (rows[`${window}Rows`] === 0) {
      const filters = check[window].filter?.length ? ' matching its filter' : '';
      throw new NonRetryableError(
        'EmptyDriftWindow',
        `the ${window} window has no rows: ${tableName(check[window].table)} has no rows${filters}; ` +
          (window === 'current' ? 'wait for data to land or widen the window' : 'point the reference at the training data'),
      );
    }
  }
  return rows;
}

async function referenceBinEdges(wh: Warehouse, check: DriftCheck, numeric: readonly ComparedColumn[], ctx?: QueryContext): Promise<Map<number, number[]>> {
  const edges = new Map<number, number[]>();
  if (numeric.length === 0) return edges;
  const { sql, params } = referenceQuantilesQuery(wh.dialect, check, numeric);
  const [row = {}] = await wh.query(sql, params, ctx);
  for (const c of numeric) {
    const quantiles = Array.from({ length: check.bins - 1 }, (_, k) => nullableNumber(row[`q_${c.index}_${k + 1}`]));
    edges.set(c.index, binEdgesFromQuantiles(quantiles, nullableNumber(row[`min_${c.index}`])));
  }
  return edges;
}

interface WindowHistogram {
  values(c: ComparedColumn): number;
  bins(c: ComparedColumn, count: number): number[];
}

async function windowHistograms(
  wh: Warehouse,
  check: DriftCheck,
  columns: readonly ComparedColumn[],
  edges: ReadonlyMap<number, readonly number[]>,
  ctx?: QueryContext,
): Promise<{ reference: WindowHistogram; current: WindowHistogram }> {
  const { sql, params } = histogramQuery(wh.dialect, check, columns, edges);
  const result = await wh.query(sql, params, ctx);
  const histogram = (isReference: number): WindowHistogram => {
    const row: Row = result.find((r) => countOf(r['is_reference']) === isReference) ?? {};
    return {
      values: (c) => countOf(row[`values_${c.index}`]),
      bins: (c, count) => Array.from({ length: count }, (_, k) => countOf(row[`bin_${c.index}_${k}`])),
    };
  };
  return { reference: histogram(1), current: histogram(0) };
}

async function ksStatistics(
  wh: Warehouse,
  check: DriftCheck,
  columns: readonly ComparedColumn[],
  numeric: readonly ComparedColumn[],
  ctx?: QueryContext,
): Promise<Map<number, number>> {
  const { sql, params } = ksQuery(wh.dialect, check, columns, numeric);
  const result = await wh.query(sql, params, ctx);
  return new Map(result.map((r) => [countOf(r['feature_index']), Number(r['ks'])]));
}

interface CategoryCounts {
  categories: (string | null)[];
  referenceCounts: number[];
  currentCounts: number[];
}

async function categoryCounts(
  wh: Warehouse,
  check: DriftCheck,
  columns: readonly ComparedColumn[],
  categorical: readonly ComparedColumn[],
  ctx?: QueryContext,
): Promise<Map<number, CategoryCounts>> {
  const { sql, params } = categoryQuery(wh.dialect, check, columns, categorical);
  const result = await wh.query(sql, params, ctx);
  const byColumn = new Map<number, CategoryCounts>();
  // The pooled bucket (NULL category) goes last, the kept categories by rank.
  const ordered = [...result].sort((a, b) => {
    const pooled = Number(a['category'] === null) - Number(b['category'] === null);
    return pooled || countOf(a['category_rank']) - countOf(b['category_rank']);
  });
  for (const r of ordered) {
    const index = countOf(r['feature_index']);
    const counts = byColumn.get(index) ?? { categories: [], referenceCounts: [], currentCounts: [] };
    counts.categories.push(r['category'] === null ? null : String(r['category']));
    counts.referenceCounts.push(countOf(r['reference_n']));
    counts.currentCounts.push(countOf(r['current_n']));
    byColumn.set(index, counts);
  }
  return byColumn;
}

function fieldOf(c: ComparedColumn): string {
  return c.kind === 'numeric' ? 'numericFeatures' : c.kind === 'categorical' ? 'categoricalFeatures' : 'prediction';
}

function tableName(table: TableRef): string {
  return table.schema ? `${table.schema}.${table.name}` : table.name;
}

/** Warehouses return counts as numbers, big integers or numeric strings, and a sum of nothing as NULL. */
function countOf(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return Number(value);
}

function nullableNumber(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}
