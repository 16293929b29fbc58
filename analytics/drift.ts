import {
  assessCategoricalFeature,
  assessNumericFeature,
  needsExactKs,
  parseDriftCheck,
  psiBinsFromFine,
  summariseDrift,
  type DriftCheck,
  type DriftCheckInput,
  type DriftReport,
  type FeatureDrift,
  type FineBin,
} from '../domain/drift';
import { binnedKs } from '../domain/drift-methods';
import { NonRetryableError } from '../domain/errors';
import type { TableRef } from '../domain/table-ref';
import type { QueryContext, Row, Warehouse } from '../warehouse/warehouse';
import {
  FINE_BINS,
  binCountsQuery,
  categoryQuery,
  comparedColumns,
  isNumericKind,
  ksBracketBins,
  ksBracketQuery,
  ksRefinementQuery,
  profileQuery,
  type BinRange,
  type ComparedColumn,
  type KsBracket,
  type NumericBinning,
  type Refinement,
} from './drift-sql';

export type { DriftCheckInput, DriftReport, FeatureDrift } from '../domain/drift';

/**
 * Categorical columns with more distinct values than this are ranked and
 * pooled in the warehouse (one more query each) rather than counted per
 * category in the bins pass, so no more than about this many rows per
 * column ever come back.
 */
export const MAX_COUNTED_CATEGORIES = 10_000;

/**
 * Drift of every named column between a reference window (the training data)
 * and a current window. The warehouse does the counting, two passes over
 * each window whatever their size: a profile (counts, ranges, reference
 * quantiles), then counts per bin and category. Exact KS adds one narrow
 * pass over the few fine bins where it is not settled yet. What comes back is
 * a few thousand aggregate rows, never the rows themselves.
 */
export async function computeDrift(wh: Warehouse, input: DriftCheckInput, ctx?: QueryContext): Promise<DriftReport> {
  const check = parseDriftCheck(input);
  await assertColumnsExist(wh, check);
  const columns = comparedColumns(check);
  const profile = await windowProfile(wh, check, columns, ctx);

  const numeric = columns.filter(isNumericKind).map((c) => binningOf(c, profile));
  const categorical = columns.filter((c) => !isNumericKind(c));
  const counted = categorical.filter((c) => profile.distinct(c) <= MAX_COUNTED_CATEGORIES);
  const bins = await binCounts(wh, check, numeric, counted, ctx);
  const pooled = new Map<number, CategoryCounts>();
  for (const c of categorical.filter((x) => !counted.includes(x))) pooled.set(c.index, await rankedCategories(wh, check, c, ctx));
  const ks = await ksStatistics(wh, check, numeric, bins, ctx);

  const features: FeatureDrift[] = columns.map((c) => {
    const nulls = { referenceNulls: profile.reference.rows - profile.reference.values(c), currentNulls: profile.current.rows - profile.current.values(c) };
    if (c.kind === 'categorical') {
      const counts = pooled.get(c.index) ?? pooledCategories(bins.categories.get(c.index) ?? [], check.maxCategories);
      return assessCategoricalFeature({ feature: c.name, ...counts, ...nulls }, check.thresholds);
    }
    const fine = bins.fine.get(c.index) ?? [];
    const k = ks.get(c.index);
    return assessNumericFeature(
      {
        feature: c.name,
        kind: c.kind,
        ...psiBinsFromFine(fine, check.bins),
        ...nulls,
        ks: k?.value ?? null,
        ...(k ? { ksMethod: k.method, ksUpperBound: k.upper } : {}),
        fine,
        referenceStd: profile.reference.std(c),
      },
      check.thresholds,
    );
  });
  return summariseDrift(features, check.thresholds, { referenceRows: profile.reference.rows, currentRows: profile.current.rows });
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

interface WindowProfile {
  readonly rows: number;
  values(c: ComparedColumn): number;
  min(c: ComparedColumn): number | null;
  max(c: ComparedColumn): number | null;
  std(c: ComparedColumn): number;
}

interface Profile {
  readonly reference: WindowProfile;
  readonly current: WindowProfile;
  /** Approximate distinct values of a categorical column over both windows (at least the larger window's) */
  distinct(c: ComparedColumn): number;
}

/** Pass 1. An empty window fails here, before any binning. */
async function windowProfile(wh: Warehouse, check: DriftCheck, columns: readonly ComparedColumn[], ctx?: QueryContext): Promise<Profile> {
  const query = profileQuery(wh.dialect, check, columns);
  const result = await wh.query(query.sql, query.params, ctx);
  const rowOf = (isReference: number): Row => result.find((r) => countOf(r['is_reference']) === isReference) ?? {};
  const window = (row: Row): WindowProfile => ({
    rows: countOf(row['row_count']),
    values: (c) => countOf(row[`values_${c.index}`]),
    min: (c) => nullableNumber(row[`min_${c.index}`]),
    max: (c) => nullableNumber(row[`max_${c.index}`]),
    std: (c) => nullableNumber(row[`std_${c.index}`]) ?? 0,
  });
  const referenceRow = rowOf(1);
  const currentRow = rowOf(0);
  const profile: Profile = {
    reference: window(referenceRow),
    current: window(currentRow),
    distinct: (c) => Math.max(countOf(referenceRow[`distinct_${c.index}`]), countOf(currentRow[`distinct_${c.index}`])),
  };
  for (const window of ['reference', 'current'] as const) {
    if (profile[window].rows === 0) {
      const filters = check[window].filter?.length ? ' matching its filter' : '';
      throw new NonRetryableError(
        'EmptyDriftWindow',
        `the ${window} window has no rows: ${tableName(check[window].table)} has no rows${filters}; ` +
          (window === 'current' ? 'wait for data to land or widen the window' : 'point the reference at the training data'),
      );
    }
  }
  return profile;
}

function binningOf(c: ComparedColumn, profile: Profile): NumericBinning {
  const low = minOf(profile.reference.min(c), profile.current.min(c));
  const high = maxOf(profile.reference.max(c), profile.current.max(c));
  const scale = low !== null && high !== null && high > low ? FINE_BINS / (high - low) : 0;
  return {
    column: c,
    low: low ?? 0,
    scale: Number.isFinite(scale) ? scale : 0,
  };
}

interface BinCounts {
  /** Occupied fine bins of each numeric column, in order */
  readonly fine: ReadonlyMap<number, FineBin[]>;
  /** Category counts of each counted categorical column */
  readonly categories: ReadonlyMap<number, Array<{ category: string; reference: number; current: number }>>;
}

/** Pass 2. */
async function binCounts(
  wh: Warehouse,
  check: DriftCheck,
  numeric: readonly NumericBinning[],
  categorical: readonly ComparedColumn[],
  ctx?: QueryContext,
): Promise<BinCounts> {
  const fineBins = new Map<number, Map<number, { r: number; c: number; rs: number; cs: number; min: number; max: number }>>();
  const categories = new Map<number, Map<string, { reference: number; current: number }>>();
  if (numeric.length + categorical.length > 0) {
    const { sql, params } = binCountsQuery(wh.dialect, check, numeric, categorical);
    for (const r of await wh.query(sql, params, ctx)) {
      const index = countOf(r['feature_index']);
      const isReference = countOf(r['is_reference']);
      const n = countOf(r['n']);
      if (numeric.some((b) => b.column.index === index)) {
        if (r['fine_bin'] === null || r['fine_bin'] === undefined) continue; // the NULL values
        const bins = fineBins.get(index) ?? new Map();
        fineBins.set(index, bins);
        const fine = countOf(r['fine_bin']);
        const bin = bins.get(fine) ?? { r: 0, c: 0, rs: 0, cs: 0, min: Infinity, max: -Infinity };
        const sum = Number(r['value_sum']);
        if (isReference === 1) {
          bin.r += n;
          bin.rs += sum;
        } else {
          bin.c += n;
          bin.cs += sum;
        }
        bin.min = Math.min(bin.min, Number(r['value_min']));
        bin.max = Math.max(bin.max, Number(r['value_max']));
        bins.set(fine, bin);
      } else {
        if (r['category'] === null || r['category'] === undefined) continue;
        const counts = categories.get(index) ?? new Map();
        categories.set(index, counts);
        const category = String(r['category']);
        const entry = counts.get(category) ?? { reference: 0, current: 0 };
        if (isReference === 1) entry.reference += n;
        else entry.current += n;
        counts.set(category, entry);
      }
    }
  }
  const fine = new Map<number, FineBin[]>();
  for (const [index, bins] of fineBins) {
    const numbers = [...bins.keys()].sort((a, b) => a - b);
    fine.set(
      index,
      numbers.map((k) => {
        const b = bins.get(k)!;
        return { referenceCount: b.r, currentCount: b.c, referenceSum: b.rs, currentSum: b.cs, min: b.min, max: b.max };
      }),
    );
  }
  return {
    fine,
    categories: new Map([...categories].map(([index, counts]) => [index, [...counts].map(([category, c]) => ({ category, ...c }))])),
  };
}

interface KsResult {
  readonly value: number;
  readonly method: 'exact' | 'binned';
  readonly upper: number;
}

/**
 * KS of every numeric column: bracketed from the fine bins; where the check
 * wants it exact and the bracket is open, bracketed again in the warehouse
 * over KS_BRACKET_BINS bins (pass 3a), and settled on the raw values of the
 * few bins still open (pass 3b). Neither pass sorts or groups a whole column.
 */
async function ksStatistics(
  wh: Warehouse,
  check: DriftCheck,
  numeric: readonly NumericBinning[],
  bins: BinCounts,
  ctx?: QueryContext,
): Promise<Map<number, KsResult>> {
  const results = new Map<number, KsResult>();
  const open: KsBracket[] = [];
  for (const binning of numeric) {
    const index = binning.column.index;
    const fine = bins.fine.get(index) ?? [];
    const totals: [number, number] = [fine.reduce((s, b) => s + b.referenceCount, 0), fine.reduce((s, b) => s + b.currentCount, 0)];
    if (totals[0] === 0 || totals[1] === 0) continue;
    const bracket = binnedKs(fine, totals[0], totals[1]);
    const exact = needsExactKs(binning.column.name, totals[0], totals[1], check.thresholds);
    if (!bracket.open || !exact) {
      results.set(index, { value: bracket.lower, method: exact ? 'exact' : 'binned', upper: bracket.upper });
      continue;
    }
    open.push({ binning: bracketBinning(binning, fine, ksBracketBins(Math.max(...totals))), referenceValues: totals[0], currentValues: totals[1] });
  }
  if (open.length === 0) return results;

  const bracketQuery = ksBracketQuery(wh.dialect, check, open);
  const lower = new Map<number, number>();
  const candidates = new Map<number, Array<{ bin: number; below: number }>>();
  for (const r of await wh.query(bracketQuery.sql, bracketQuery.params, ctx)) {
    const index = countOf(r['feature_index']);
    lower.set(index, Number(r['lower']));
    if (countOf(r['open']) === 1) candidates.set(index, [...(candidates.get(index) ?? []), { bin: countOf(r['fine_bin']), below: Number(r['below']) }]);
  }
  const refinements: Refinement[] = open
    .filter((o) => candidates.has(o.binning.column.index))
    .map((o) => ({ ...o, ranges: runs(candidates.get(o.binning.column.index)!.map((c) => c.bin)) }));
  const inner = new Map<string, { max: number; min: number }>();
  if (refinements.length) {
    const { sql, params } = ksRefinementQuery(wh.dialect, check, refinements);
    for (const r of await wh.query(sql, params, ctx)) {
      inner.set(`${countOf(r['feature_index'])}:${countOf(r['fine_bin'])}`, { max: Number(r['inner_max']), min: Number(r['inner_min']) });
    }
  }
  for (const o of open) {
    const index = o.binning.column.index;
    let ks = lower.get(index) ?? 0;
    for (const c of candidates.get(index) ?? []) {
      const found = inner.get(`${index}:${c.bin}`);
      if (found) ks = Math.max(ks, Math.abs(c.below + found.max), Math.abs(c.below + found.min));
    }
    results.set(index, { value: ks, method: 'exact', upper: ks });
  }
  return results;
}

/**
 * The binning exact KS brackets with: `bins` equal-width bins over the
 * range; or, when a long right tail stretches the range (99 % of the
 * values in its lowest sixteenth), equal-width bins of ln(1 + (v − low) /
 * shift), shift being where the lowest 1 % of the values end, so the bins
 * stay fine where the values are and the few bins left open hold few values.
 */
function bracketBinning(binning: NumericBinning, fine: readonly FineBin[], bins: number): NumericBinning {
  const tail = rightTail(binning, fine);
  if (binning.scale <= 0 || !tail) return { ...binning, scale: binning.scale * (bins / FINE_BINS), bins };
  const high = binning.low + FINE_BINS / binning.scale;
  const shift = Math.max(tail.p01 - binning.low, (high - binning.low) / bins);
  return { ...binning, shift, scale: bins / Math.log1p((high - binning.low) / shift), bins };
}

/** Where the lowest 1 % of both windows' values ends, when 99 % of them lie in the lowest sixteenth of the range. */
function rightTail(binning: NumericBinning, fine: readonly FineBin[]): { p01: number } | undefined {
  const total = fine.reduce((s, b) => s + b.referenceCount + b.currentCount, 0);
  let seen = 0;
  let p01: number | undefined;
  for (const b of fine) {
    seen += b.referenceCount + b.currentCount;
    if (p01 === undefined && seen >= 0.01 * total) p01 = b.max;
    if (seen >= 0.99 * total) return (b.max - binning.low) * binning.scale <= FINE_BINS / 16 ? { p01: p01 ?? b.max } : undefined;
  }
  return undefined;
}

/** Sorted bin numbers as runs of consecutive ones, so the refinement filter stays short. */
function runs(numbers: readonly number[]): BinRange[] {
  const out: BinRange[] = [];
  for (const n of [...numbers].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && n === last.to + 1) out[out.length - 1] = { from: last.from, to: n };
    else out.push({ from: n, to: n });
  }
  return out;
}

interface CategoryCounts {
  categories: (string | null)[];
  referenceCounts: number[];
  currentCounts: number[];
}

/**
 * The `maxCategories` categories with the largest combined share (reference
 * share plus current share) one by one, by that share and then by name;
 * the rest pooled into one NULL bucket, last.
 */
function pooledCategories(counts: ReadonlyArray<{ category: string; reference: number; current: number }>, maxCategories: number): CategoryCounts {
  const r = counts.reduce((s, c) => s + c.reference, 0);
  const c = counts.reduce((s, x) => s + x.current, 0);
  const share = (x: { reference: number; current: number }) => (r > 0 ? x.reference / r : 0) + (c > 0 ? x.current / c : 0);
  const ranked = [...counts].sort((a, b) => share(b) - share(a) || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
  const kept = ranked.slice(0, maxCategories);
  const rest = ranked.slice(maxCategories);
  const out: CategoryCounts = { categories: kept.map((k) => k.category), referenceCounts: kept.map((k) => k.reference), currentCounts: kept.map((k) => k.current) };
  if (rest.length) {
    out.categories.push(null);
    out.referenceCounts.push(rest.reduce((s, x) => s + x.reference, 0));
    out.currentCounts.push(rest.reduce((s, x) => s + x.current, 0));
  }
  return out;
}

/** A categorical column with very many distinct values: ranked and pooled in the warehouse. */
async function rankedCategories(wh: Warehouse, check: DriftCheck, column: ComparedColumn, ctx?: QueryContext): Promise<CategoryCounts> {
  const { sql, params } = categoryQuery(wh.dialect, check, column);
  const result = await wh.query(sql, params, ctx);
  const counts: CategoryCounts = { categories: [], referenceCounts: [], currentCounts: [] };
  // The pooled bucket (NULL category) goes last, the kept categories by rank.
  const ordered = [...result].sort((a, b) => {
    const pooled = Number(a['category'] === null) - Number(b['category'] === null);
    return pooled || countOf(a['category_rank']) - countOf(b['category_rank']);
  });
  for (const r of ordered) {
    counts.categories.push(r['category'] === null ? null : String(r['category']));
    counts.referenceCounts.push(countOf(r['reference_n']));
    counts.currentCounts.push(countOf(r['current_n']));
  }
  return counts;
}

function minOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b);
}

function maxOf(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b);
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
