import { z } from 'zod';
import {
  CATEGORICAL_METHODS,
  DEFAULT_METHOD_THRESHOLDS,
  DEFAULT_MIN_ROWS,
  DISCRETE_VALUES,
  DRIFT_METHODS,
  NUMERIC_METHODS,
  autoMethod,
  chiSquareHomogeneity,
  isSingleValue,
  isTest,
  normedWasserstein,
  type DriftMethod,
  type FineBin,
} from './drift-methods';
import { NonRetryableError } from './errors';

export { DRIFT_METHODS, type DriftMethod, type FineBin } from './drift-methods';

/**
 * Drift between a reference window (the training data) and a current window,
 * judged from aggregates the warehouse computed: bin counts, category counts
 * and the Kolmogorov–Smirnov statistic. Pure, so the drift workflow can import
 * the verdict rules and the schemas as well as the activity.
 */

/**
 * Share that stands in for an empty bin in PSI, where ln(c/r) would be
 * infinite. 1e-4 is the common choice; it bounds one empty bin's contribution
 * by (share − 1e-4)·ln(share / 1e-4), e.g. 0.31 for a bin holding 5 % in the
 * other window. Shares are not renormalised afterwards, as usual.
 */
export const PSI_EPSILON = 1e-4;

/**
 * A constant reference gives one bin, so PSI is 0 whatever happens. Such a
 * feature is judged by the KS statistic instead, which then reads as the share
 * of current values on one side of the constant; this is the bar unless
 * `ksStatistic` is configured.
 */
export const CONSTANT_REFERENCE_KS = 0.1;

const identifier = z
  .string({ error: 'must be a column name' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a SQL identifier: letters, digits and underscores, starting with a letter or underscore');

const share = (what: string) =>
  z.number({ error: `must be a number in (0, 1]: ${what}` }).gt(0, `must be above 0: ${what}`).max(1, `must be at most 1: ${what}`);

/** A typo in a field name must not silently fall back to a default. */
const knownFields = (fields: string) => ({
  error: (issue: { code?: string; keys?: string[] }) =>
    issue.code === 'unrecognized_keys' ? `unknown field ${(issue.keys ?? []).map((k) => `"${k}"`).join(', ')}: the fields are ${fields}` : undefined,
});

const driftMethod = z.enum(DRIFT_METHODS, { error: `must be one of ${DRIFT_METHODS.join(', ')}` });
/** 'auto' (the default): a test on small windows, a distance on large ones; see SMALL_SAMPLE_ROWS. */
const kindMethod = z.enum([...DRIFT_METHODS, 'auto'], { error: `must be auto or one of ${DRIFT_METHODS.join(', ')}` });

const featureOverrideSchema = z.strictObject(
  {
    method: driftMethod.optional().describe('The test or distance that judges this feature'),
    threshold: z
      .number({ error: 'must be a positive number: a p-value for ks/chisquare, a distance for the others' })
      .positive('must be above 0: a p-value for ks/chisquare, a distance for the others')
      .optional()
      .describe('Its threshold: drift when p < threshold (ks, chisquare) or distance ≥ threshold'),
  },
  knownFields('method, threshold'),
);

const THRESHOLD_FIELDS = 'psi, jsDistance, ksStatistic, driftedShare, wasserstein, pValue, numericMethod, categoricalMethod, features, minRows, exactKs';

export const driftThresholdsSchema = z.strictObject({
  psi: z
    .number({ error: 'must be a positive number such as 0.1 (0.1 = moderate shift, 0.25 = major shift)' })
    .positive('must be above 0, e.g. 0.1 (0.1 = moderate shift, 0.25 = major shift)')
    .default(0.1)
    .describe('A feature judged by PSI drifts when its PSI reaches this'),
  jsDistance: share('the Jensen–Shannon distance (base 2) at which a feature judged by it drifts, e.g. 0.1')
    .default(0.1)
    .describe('A feature judged by Jensen–Shannon drifts when its distance (base 2) reaches this'),
  ksStatistic: share('the Kolmogorov–Smirnov statistic at which a numeric feature also drifts, e.g. 0.1')
    .optional()
    .describe('When set, a numeric feature also drifts when its KS statistic reaches this'),
  driftedShare: share('the share of features that must drift for the dataset to drift, e.g. 0.5')
    .default(0.5)
    .describe('The dataset drifts when at least this share of its judged features drift'),
  wasserstein: z
    .number({ error: 'must be a positive number, e.g. 0.1 (a tenth of a reference standard deviation)' })
    .positive('must be above 0, e.g. 0.1')
    .optional()
    .describe('A feature judged by Wasserstein drifts when its distance, in reference standard deviations, reaches this (default 0.1)'),
  pValue: share('the p-value below which a ks or chisquare test finds drift, e.g. 0.05')
    .optional()
    .describe('A feature judged by a test (ks, chisquare) drifts when its p-value is below this (default 0.05)'),
  numericMethod: kindMethod.optional().describe('How every numeric feature and the prediction are judged; default auto: chosen per feature from its sample size'),
  categoricalMethod: kindMethod.optional().describe('How every categorical feature is judged; default auto: chosen per feature from its sample size'),
  features: z.record(identifier, featureOverrideSchema).optional().describe('Per feature: its method and threshold, over the settings above'),
  minRows: z
    .number({ error: 'must be a whole number of rows, e.g. 30' })
    .int('must be a whole number of rows, e.g. 30')
    .min(1, 'must be at least 1')
    .optional()
    .describe(`Fewer non-null values than this in either window and the feature gets no verdict (default ${DEFAULT_MIN_ROWS})`),
  exactKs: z
    .boolean({ error: 'must be true or false' })
    .optional()
    .describe('true: KS exact on the raw values (two more narrow passes over the numeric columns); false: bracketed from fine bins. Default: exact up to 1 000 000 values per window'),
}, knownFields(THRESHOLD_FIELDS))
  .superRefine((t, ctx) => {
    const misfit = (method: DriftMethod | 'auto' | undefined, allowed: readonly DriftMethod[], path: (string | number)[], what: string) => {
      if (method !== undefined && method !== 'auto' && !allowed.includes(method)) {
        ctx.addIssue({ code: 'custom', path, message: `"${method}" does not apply to ${what}: use ${allowed.join(', ')}` });
      }
    };
    misfit(t.numericMethod, NUMERIC_METHODS, ['numericMethod'], 'numeric features');
    misfit(t.categoricalMethod, CATEGORICAL_METHODS, ['categoricalMethod'], 'categorical features');
    for (const [feature, override] of Object.entries(t.features ?? {})) {
      if (override.method !== undefined && isTest(override.method) && override.threshold !== undefined && override.threshold > 1) {
        ctx.addIssue({ code: 'custom', path: ['features', feature, 'threshold'], message: `is a p-value for ${override.method}: give a number in (0, 1], e.g. 0.05` });
      }
    }
  });

export type DriftThresholds = z.output<typeof driftThresholdsSchema>;
export type DriftThresholdsInput = z.input<typeof driftThresholdsSchema>;

const filterValue = z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' });
const rangeBound = z.union([z.string(), z.number()], { error: 'must be a number or an ISO date/timestamp string' });

const windowFilterSchema = z
  .strictObject({
    column: identifier,
    value: filterValue.optional().describe('Keep rows where the column equals this'),
    from: rangeBound.optional().describe('Keep rows where the column is at least this'),
    to: rangeBound.optional().describe('Keep rows where the column is below this (exclusive)'),
  })
  .refine((f) => (f.value !== undefined) !== (f.from !== undefined || f.to !== undefined), {
    error: 'give either value (rows equal to it) or from/to (a half-open range [from, to)), not both and not neither',
  });

export type WindowFilter = z.output<typeof windowFilterSchema>;

const windowSchema = z.strictObject({
  table: z.strictObject({ name: identifier, schema: identifier.optional() }, { error: 'must be { name, schema? }' }),
  filter: z.array(windowFilterSchema).optional().describe('Rows of the table that form the window; several filters all apply'),
});

/** What a drift check compares: the input of `computeDrift`, as a plan or the UI would send it. */
export const driftCheckSchema = z
  .strictObject({
    reference: windowSchema.describe('The window the model was trained on'),
    current: windowSchema.describe('The window to compare with it'),
    numericFeatures: z.array(identifier).default([]),
    categoricalFeatures: z.array(identifier).default([]),
    prediction: identifier.optional().describe('Numeric score column; its drift is reported but does not count towards the dataset share'),
    bins: z
      .number({ error: 'must be a whole number of bins, e.g. 10' })
      .int('must be a whole number of bins, e.g. 10')
      .min(2, 'must be at least 2')
      .max(100, 'must be at most 100')
      .default(10),
    maxCategories: z
      .number({ error: 'must be a whole number, e.g. 50' })
      .int('must be a whole number, e.g. 50')
      .min(1, 'must be at least 1')
      .max(1000, 'must be at most 1000: more categories would move rows, not aggregates')
      .default(50)
      .describe('Most frequent categories compared one by one; the rest are pooled into one "other" bucket'),
    thresholds: driftThresholdsSchema.prefault({}),
  }, knownFields('reference, current, numericFeatures, categoricalFeatures, prediction, bins, maxCategories, thresholds'))
  .superRefine((check, ctx) => {
    const columns = [...check.numericFeatures, ...check.categoricalFeatures, ...(check.prediction ? [check.prediction] : [])];
    if (columns.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['numericFeatures'], message: 'name at least one numeric or categorical feature, or a prediction' });
    }
    const seen = new Set<string>();
    for (const column of columns) {
      if (seen.has(column)) ctx.addIssue({ code: 'custom', path: [], message: `column "${column}" is listed twice: name each column once, under one kind` });
      seen.add(column);
    }
  });

export type DriftCheck = z.output<typeof driftCheckSchema>;

/** One window of a drift check: a table, optionally narrowed by one filter or several (all apply). */
export interface DriftWindowInput {
  readonly table: { readonly name: string; readonly schema?: string };
  readonly filter?: WindowFilter | readonly WindowFilter[];
}

export interface DriftCheckInput {
  readonly reference: DriftWindowInput;
  readonly current: DriftWindowInput;
  readonly numericFeatures?: readonly string[];
  readonly categoricalFeatures?: readonly string[];
  /** Numeric score column */
  readonly prediction?: string;
  /** Quantile bins of numeric columns, defined on the reference; 10 unless given */
  readonly bins?: number;
  readonly maxCategories?: number;
  readonly thresholds?: Partial<DriftThresholds>;
}

export function parseDriftThresholds(input: unknown): DriftThresholds {
  return parseOrThrow(driftThresholdsSchema, input ?? {}, 'thresholds', 'InvalidDriftThresholds');
}

/** Validates a drift check; a single filter may be given without the array. */
export function parseDriftCheck(input: unknown): DriftCheck {
  return parseOrThrow(driftCheckSchema, withFilterArrays(input), '', 'InvalidDriftCheck');
}

function withFilterArrays(input: unknown): unknown {
  if (!isRecord(input)) return input;
  const out: Record<string, unknown> = { ...input };
  for (const window of ['reference', 'current']) {
    const w = input[window];
    if (isRecord(w) && w['filter'] !== undefined && !Array.isArray(w['filter'])) out[window] = { ...w, filter: [w['filter']] };
  }
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, root: string, type: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const path = [root, ...issue.path.map(String)].filter(Boolean).join('.') || '(drift check)';
    return `${path}: ${issue.message}`;
  });
  throw new NonRetryableError(type, problems.join('; '), { problems });
}

// ---------------------------------------------------------------------------
// Report shapes

export type FeatureKind = 'numeric' | 'categorical' | 'prediction';

export interface BinCounts {
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly referenceShare: number;
  readonly currentShare: number;
}

/** Values in [lower, upper); a null bound is open (−∞ or +∞). */
export interface NumericBin extends BinCounts {
  readonly lower: number | null;
  readonly upper: number | null;
}

/** One category; `category: null` pools every category beyond `maxCategories`. */
export interface CategoryBin extends BinCounts {
  readonly category: string | null;
}

interface FeatureDriftBase {
  readonly feature: string;
  readonly psi?: number;
  /** Jensen–Shannon distance, base 2: sqrt of the divergence, in [0, 1] */
  readonly jsDistance?: number;
  readonly drifted: boolean;
  readonly reason: string;
  /** The test or distance that gave the verdict (absent when a window has no values) */
  readonly method?: DriftMethod;
  /** What the verdict compared with: a p-value for ks and chisquare, a distance for the others */
  readonly threshold?: number;
  /** The value compared with it: the p-value of a test, the distance otherwise */
  readonly statistic?: number;
  /** Set when either window has fewer non-null values than the check's minimum: no verdict was given */
  readonly notEnoughRows?: boolean;
  /** Non-null values compared */
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly referenceNullShare: number;
  readonly currentNullShare: number;
}

export interface NumericFeatureDrift extends FeatureDriftBase {
  readonly kind: 'numeric' | 'prediction';
  /** Two-sample Kolmogorov–Smirnov statistic: exact on the raw values unless `ksMethod` says binned */
  readonly ks?: number;
  /** 'binned': `ks` is the largest CDF difference at the fine-bin boundaries, within `ksUpperBound` of the exact one */
  readonly ksMethod?: 'exact' | 'binned';
  readonly ksUpperBound?: number;
  /** Its asymptotic p-value; with large windows tiny shifts are "significant", so large windows are judged by a distance */
  readonly ksPValue?: number;
  /** Wasserstein-1 distance divided by the reference's standard deviation */
  readonly wasserstein?: number;
  readonly bins: NumericBin[];
}

export interface CategoricalFeatureDrift extends FeatureDriftBase {
  readonly kind: 'categorical';
  readonly chiSquare?: number;
  readonly chiSquarePValue?: number;
  readonly bins: CategoryBin[];
}

export type FeatureDrift = NumericFeatureDrift | CategoricalFeatureDrift;

export interface DriftReport {
  readonly features: FeatureDrift[];
  /** Share of the judged input features (not the prediction, not those without enough rows) that drifted */
  readonly driftedShare: number;
  readonly datasetDrift: boolean;
  readonly thresholds: DriftThresholds;
  readonly referenceRows: number;
  readonly currentRows: number;
}

// ---------------------------------------------------------------------------
// Math on aggregated histograms

export function toShares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/** PSI = Σ (c − r)·ln(c / r) over bins, an empty bin's share replaced by `epsilon`. */
export function populationStabilityIndex(referenceCounts: readonly number[], currentCounts: readonly number[], epsilon = PSI_EPSILON): number {
  assertSameLength(referenceCounts, currentCounts);
  const r = toShares(referenceCounts);
  const c = toShares(currentCounts);
  let psi = 0;
  for (let i = 0; i < r.length; i++) {
    const ri = r[i]! > 0 ? r[i]! : epsilon;
    const ci = c[i]! > 0 ? c[i]! : epsilon;
    psi += (ci - ri) * Math.log(ci / ri);
  }
  return psi;
}

/** sqrt of the Jensen–Shannon divergence in bits: 0 for equal distributions, 1 for disjoint ones. */
export function jensenShannonDistance(referenceCounts: readonly number[], currentCounts: readonly number[]): number {
  assertSameLength(referenceCounts, currentCounts);
  const p = toShares(referenceCounts);
  const q = toShares(currentCounts);
  let divergence = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i]! + q[i]!) / 2;
    if (p[i]! > 0) divergence += 0.5 * p[i]! * Math.log2(p[i]! / m);
    if (q[i]! > 0) divergence += 0.5 * q[i]! * Math.log2(q[i]! / m);
  }
  // Rounding can leave a hair below 0 or above 1.
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}

/**
 * Asymptotic p-value of the two-sample KS statistic `d` for samples of `n` and
 * `m` values: the Kolmogorov distribution with Stephens' small-sample
 * correction, as in Numerical Recipes (probks).
 */
export function ksPValue(d: number, n: number, m: number): number {
  if (n <= 0 || m <= 0) return 1;
  const effective = Math.sqrt((n * m) / (n + m));
  const lambda = (effective + 0.12 + 0.11 / effective) * d;
  if (lambda < 1e-3) return 1;
  let sum = 0;
  let previous = 0;
  for (let j = 1; j <= 100; j++) {
    const term = (j % 2 === 1 ? 2 : -2) * Math.exp(-2 * j * j * lambda * lambda);
    sum += term;
    if (Math.abs(term) <= 1e-3 * previous || Math.abs(term) <= 1e-8 * sum) return Math.min(1, Math.max(0, sum));
    previous = Math.abs(term);
  }
  // The series did not settle: lambda is so small that the samples cannot be told apart.
  return 1;
}

/** PSI bins read off the fine bins: interior edges and each window's count per bin. */
export interface PsiBins {
  /** Interior edges: bins are (−∞, e1), [e1, e2), …, [ek, +∞) */
  readonly edges: number[];
  readonly referenceCounts: number[];
  readonly currentCounts: number[];
}

/**
 * PSI bins at the reference's `bins`-quantiles, read off the fine bins so no
 * quantile sketch and no third pass are needed. Each quantile falls inside
 * one fine bin; the PSI bin starts at that fine bin or at the next one,
 * whichever leaves a reference share below it closer to the quantile, and
 * its edge is the smallest value of that fine bin in either window. Binning
 * is monotone, so a value is below the edge exactly when its fine bin is
 * below: the PSI counts are sums of fine-bin counts, exact, and the same on
 * every warehouse. A start is kept only when the reference has values on
 * both sides of it and since the previous start, so no reference bin is
 * empty by construction (a point mass at the minimum, e.g. many zeros,
 * collapses into one bin). A constant reference gets no edges: one bin.
 */
export function psiBinsFromFine(fine: readonly FineBin[], bins: number): PsiBins {
  const total = fine.reduce((s, b) => s + b.referenceCount, 0);
  // below[j]: reference values in the fine bins before j.
  const below = [0];
  for (const b of fine) below.push(below.at(-1)! + b.referenceCount);
  const starts: number[] = [];
  for (let k = 1, j = 0; k < bins && total > 0; k++) {
    const target = (k / bins) * total;
    while (below[j + 1]! < target) j++;
    const start = target - below[j]! <= below[j + 1]! - target ? j : j + 1;
    const previous = starts.at(-1) ?? 0;
    if (below[start]! > below[previous]! && below[start]! < total) starts.push(start);
  }
  const referenceCounts = new Array<number>(starts.length + 1).fill(0);
  const currentCounts = new Array<number>(starts.length + 1).fill(0);
  let bin = 0;
  fine.forEach((b, j) => {
    if (bin < starts.length && j === starts[bin]) bin++;
    referenceCounts[bin]! += b.referenceCount;
    currentCounts[bin]! += b.currentCount;
  });
  return { edges: starts.map((j) => fine[j]!.min), referenceCounts, currentCounts };
}

// ---------------------------------------------------------------------------
// Verdicts

export interface NumericAggregates {
  readonly feature: string;
  readonly kind: 'numeric' | 'prediction';
  /** Interior edges: bins are (−∞, e1), [e1, e2), …, [ek, +∞) */
  readonly edges: readonly number[];
  readonly referenceCounts: readonly number[];
  readonly currentCounts: readonly number[];
  readonly referenceNulls: number;
  readonly currentNulls: number;
  /** null when either window has no values */
  readonly ks: number | null;
  /** How `ks` was found; exact unless said otherwise */
  readonly ksMethod?: 'exact' | 'binned';
  readonly ksUpperBound?: number;
  /** Fine equal-width bins over both windows' range, in order: Wasserstein and the discrete-values check come from them */
  readonly fine?: readonly FineBin[];
  /** Population standard deviation of the reference */
  readonly referenceStd?: number;
}

export interface CategoricalAggregates {
  readonly feature: string;
  readonly categories: readonly (string | null)[];
  readonly referenceCounts: readonly number[];
  readonly currentCounts: readonly number[];
  readonly referenceNulls: number;
  readonly currentNulls: number;
}

/** The method and threshold that judge a feature: its own override, else its kind's, else aimo's choice from the sample size. */
export function methodFor(
  feature: string,
  kind: 'numeric' | 'categorical',
  referenceValues: number,
  discrete: boolean,
  t: DriftThresholds,
): { method: DriftMethod; threshold: number } {
  const override = t.features?.[feature];
  const chosen = override?.method ?? (kind === 'numeric' ? t.numericMethod : t.categoricalMethod) ?? 'auto';
  const method = chosen === 'auto' ? autoMethod(kind, referenceValues, discrete) : chosen;
  const allowed = kind === 'numeric' ? NUMERIC_METHODS : CATEGORICAL_METHODS;
  if (!allowed.includes(method)) {
    throw new NonRetryableError(
      'InvalidDriftThresholds',
      `thresholds.features.${feature}.method: "${method}" does not apply to a ${kind} feature: use ${allowed.join(', ')}`,
    );
  }
  return { method, threshold: override?.threshold ?? thresholdOf(method, t) };
}

function thresholdOf(method: DriftMethod, t: DriftThresholds): number {
  switch (method) {
    case 'psi':
      return t.psi;
    case 'jensenshannon':
      return t.jsDistance;
    case 'wasserstein':
      return t.wasserstein ?? DEFAULT_METHOD_THRESHOLDS.wasserstein;
    case 'ks':
    case 'chisquare':
      return t.pValue ?? DEFAULT_METHOD_THRESHOLDS[method];
  }
}

/** The number of non-null values each window needs before a feature gets a verdict. */
export function minRowsOf(t: DriftThresholds): number {
  return t.minRows ?? DEFAULT_MIN_ROWS;
}

/**
 * Up to this many non-null values in each window KS is exact by default: the
 * two narrow passes that settle it stay small. Beyond it a bin of the finer
 * bracket holds about as much of a window as KS's own sampling noise, so many
 * bins stay open and the exact passes cost more than the rest of the check;
 * the bracketed statistic (within `ksUpperBound`) is reported instead, exact
 * when `exactKs: true` asks for it.
 */
export const EXACT_KS_MAX_VALUES = 1_000_000;

/** Whether KS must be exact for this feature: it is asked for, the windows are small, or a KS test decides the verdict. */
export function needsExactKs(feature: string, referenceValues: number, currentValues: number, t: DriftThresholds): boolean {
  if (wantsKsTest(feature, referenceValues, t) || t.exactKs === true) return true;
  return t.exactKs === undefined && Math.max(referenceValues, currentValues) <= EXACT_KS_MAX_VALUES;
}

/** A KS test needs the exact statistic whatever exactKs says: its p-value is only as good as the statistic. */
export function wantsKsTest(feature: string, referenceValues: number, t: DriftThresholds): boolean {
  const method = t.features?.[feature]?.method ?? t.numericMethod ?? 'auto';
  return method === 'ks' || (method === 'auto' && autoMethod('numeric', referenceValues, false) === 'ks');
}

const METHOD_LABEL: Record<DriftMethod, string> = {
  ks: 'KS p-value',
  chisquare: 'chi-square p-value',
  wasserstein: 'Wasserstein distance (normed)',
  jensenshannon: 'JS distance',
  psi: 'PSI',
};

/** "JS distance 0.2 ≥ 0.1" or "KS p-value 0.003 < 0.05": the verdict in words. */
function judged(method: DriftMethod, statistic: number, threshold: number): { drifted: boolean; text: string } {
  const drifted = isTest(method) ? statistic < threshold : statistic >= threshold;
  const op = isTest(method) ? (drifted ? '<' : '≥') : drifted ? '≥' : '<';
  return { drifted, text: `${METHOD_LABEL[method]} ${fmt(statistic)} ${op} ${fmt(threshold)}` };
}

function notEnoughRows(referenceCount: number, currentCount: number, minimum: number): { drifted: false; notEnoughRows: true; reason: string } | undefined {
  if (referenceCount >= minimum && currentCount >= minimum) return undefined;
  return {
    drifted: false,
    notEnoughRows: true,
    reason: `not enough rows: ${referenceCount} reference and ${currentCount} current values, a verdict needs at least ${minimum} in each window (thresholds.minRows)`,
  };
}

export function assessNumericFeature(a: NumericAggregates, t: DriftThresholds): NumericFeatureDrift {
  if (a.referenceCounts.length !== a.edges.length + 1) throw new Error(`${a.feature}: ${a.edges.length} edges need ${a.edges.length + 1} bins`);
  const counts = windowCounts(a);
  const bins = withShares(a.referenceCounts, a.currentCounts).map((b, i) => ({
    lower: i === 0 ? null : a.edges[i - 1]!,
    upper: i === a.edges.length ? null : a.edges[i]!,
    ...b,
  }));
  const base = { feature: a.feature, kind: a.kind, ...counts, bins };
  const missing = missingValuesVerdict(counts.referenceCount, counts.currentCount);
  if (missing) return { ...base, ...missing };

  const psi = populationStabilityIndex(a.referenceCounts, a.currentCounts);
  const jsDistance = jensenShannonDistance(a.referenceCounts, a.currentCounts);
  const ks = a.ks ?? undefined;
  const occupied = a.fine?.filter((b) => b.referenceCount > 0) ?? [];
  const discrete = a.fine !== undefined && occupied.length <= DISCRETE_VALUES && occupied.every(isSingleValue);
  const wasserstein =
    a.fine && a.referenceStd !== undefined ? normedWasserstein(a.fine, counts.referenceCount, counts.currentCount, a.referenceStd) : undefined;
  const metrics = {
    psi,
    jsDistance,
    ...(ks === undefined
      ? {}
      : {
          ks,
          ksPValue: ksPValue(ks, counts.referenceCount, counts.currentCount),
          ...(a.ksMethod === 'binned' ? { ksMethod: 'binned' as const, ksUpperBound: a.ksUpperBound ?? ks } : { ksMethod: 'exact' as const }),
        }),
    ...(wasserstein === undefined ? {} : { wasserstein }),
  };
  const { method, threshold } = methodFor(a.feature, 'numeric', counts.referenceCount, discrete, t);
  const chosen = { ...base, ...metrics, method, threshold };
  const few = notEnoughRows(counts.referenceCount, counts.currentCount, minRowsOf(t));
  if (few) return { ...chosen, ...few };
  const ksText = ks === undefined ? '' : `, KS ${fmt(ks)}`;

  if (method === 'psi') {
    if (a.edges.length === 0) {
      const bar = t.ksStatistic ?? CONSTANT_REFERENCE_KS;
      const drifted = ks !== undefined && ks >= bar;
      const reason = `the reference is constant (one bin, PSI 0 by construction): KS ${ks === undefined ? 'n/a' : fmt(ks)} ${drifted ? '≥' : '<'} ${fmt(bar)}`;
      return { ...chosen, statistic: ks ?? 0, drifted, reason };
    }
    if (psi >= threshold) return { ...chosen, statistic: psi, drifted: true, reason: `PSI ${fmt(psi)} ≥ ${fmt(threshold)}${ksText}` };
    if (t.ksStatistic !== undefined && ks !== undefined && ks >= t.ksStatistic) {
      return { ...chosen, statistic: psi, drifted: true, reason: `KS ${fmt(ks)} ≥ ${fmt(t.ksStatistic)} (PSI ${fmt(psi)} < ${fmt(threshold)})` };
    }
    return { ...chosen, statistic: psi, drifted: false, reason: `PSI ${fmt(psi)} < ${fmt(threshold)}${ksText}` };
  }

  const statistic = numericStatistic(method, { ks, psi, wasserstein, fine: a.fine, jsDistance, n: counts.referenceCount, m: counts.currentCount });
  const verdict = judged(method, statistic, threshold);
  const constant = a.edges.length === 0 ? 'the reference is constant: ' : '';
  const extra = method === 'ks' ? ` (KS ${fmt(ks ?? 0)})` : `${ksText}, PSI ${fmt(psi)}`;
  if (!verdict.drifted && t.ksStatistic !== undefined && ks !== undefined && ks >= t.ksStatistic) {
    return { ...chosen, statistic, drifted: true, reason: `KS ${fmt(ks)} ≥ ${fmt(t.ksStatistic)} (${verdict.text})` };
  }
  return { ...chosen, statistic, drifted: verdict.drifted, reason: `${constant}${verdict.text}${extra}` };
}

function numericStatistic(
  method: DriftMethod,
  s: { ks: number | undefined; psi: number; wasserstein: number | undefined; fine: readonly FineBin[] | undefined; jsDistance: number; n: number; m: number },
): number {
  switch (method) {
    case 'ks':
      return ksPValue(s.ks ?? 0, s.n, s.m);
    case 'wasserstein':
      if (s.wasserstein === undefined) throw new Error('Wasserstein needs the fine bins and the reference standard deviation');
      return s.wasserstein;
    case 'jensenshannon':
      // Over the fine bins: for a discrete column each holds one value, so this is the distance between the value distributions.
      return s.fine ? jensenShannonDistance(s.fine.map((b) => b.referenceCount), s.fine.map((b) => b.currentCount)) : s.jsDistance;
    default:
      return s.psi;
  }
}

export function assessCategoricalFeature(a: CategoricalAggregates, t: DriftThresholds): CategoricalFeatureDrift {
  const counts = windowCounts(a);
  const bins = withShares(a.referenceCounts, a.currentCounts).map((b, i) => ({ category: a.categories[i] ?? null, ...b }));
  const base = { feature: a.feature, kind: 'categorical' as const, ...counts, bins };
  const missing = missingValuesVerdict(counts.referenceCount, counts.currentCount);
  if (missing) return { ...base, ...missing };

  const psi = populationStabilityIndex(a.referenceCounts, a.currentCounts);
  const jsDistance = jensenShannonDistance(a.referenceCounts, a.currentCounts);
  const chi = chiSquareHomogeneity(a.referenceCounts, a.currentCounts);
  const { method, threshold } = methodFor(a.feature, 'categorical', counts.referenceCount, false, t);
  const chosen = { ...base, psi, jsDistance, chiSquare: chi.statistic, chiSquarePValue: chi.pValue, method, threshold };
  const few = notEnoughRows(counts.referenceCount, counts.currentCount, minRowsOf(t));
  if (few) return { ...chosen, ...few };
  const statistic = method === 'chisquare' ? chi.pValue : method === 'psi' ? psi : jsDistance;
  const verdict = judged(method, statistic, threshold);
  const extra = method === 'jensenshannon' ? ` (PSI ${fmt(psi)})` : `, JS distance ${fmt(jsDistance)}`;
  return { ...chosen, statistic, drifted: verdict.drifted, reason: `${verdict.text}${extra}` };
}

/**
 * The dataset verdict counts input features only: the prediction moves when
 * the inputs do, and counting it would double-count their drift. A check of a
 * prediction alone is judged by the prediction.
 */
export function summariseDrift(
  features: FeatureDrift[],
  thresholds: DriftThresholds,
  rows: { referenceRows: number; currentRows: number },
): DriftReport {
  const inputs = features.filter((f) => f.kind !== 'prediction');
  const judged = (inputs.length > 0 ? inputs : features).filter((f) => !f.notEnoughRows);
  const driftedShare = judged.length ? judged.filter((f) => f.drifted).length / judged.length : 0;
  return {
    features,
    driftedShare,
    datasetDrift: judged.length > 0 && driftedShare >= thresholds.driftedShare,
    thresholds,
    ...rows,
  };
}

function windowCounts(a: { referenceCounts: readonly number[]; currentCounts: readonly number[]; referenceNulls: number; currentNulls: number }) {
  const referenceCount = sum(a.referenceCounts);
  const currentCount = sum(a.currentCounts);
  return {
    referenceCount,
    currentCount,
    referenceNullShare: nullShare(a.referenceNulls, referenceCount),
    currentNullShare: nullShare(a.currentNulls, currentCount),
  };
}

/** A window without values has no distribution to compare; that a feature went (or was) entirely null is itself the finding. */
function missingValuesVerdict(referenceCount: number, currentCount: number): { drifted: boolean; reason: string } | undefined {
  if (referenceCount === 0 && currentCount === 0) return { drifted: false, reason: 'every value is null in both windows' };
  if (currentCount === 0) return { drifted: true, reason: `every value in the current window is null (the reference has ${referenceCount})` };
  if (referenceCount === 0) return { drifted: true, reason: `every value in the reference is null but the current window has ${currentCount}` };
  return undefined;
}

function withShares(referenceCounts: readonly number[], currentCounts: readonly number[]): BinCounts[] {
  assertSameLength(referenceCounts, currentCounts);
  const r = toShares(referenceCounts);
  const c = toShares(currentCounts);
  return referenceCounts.map((rc, i) => ({ referenceCount: rc, currentCount: currentCounts[i]!, referenceShare: r[i]!, currentShare: c[i]! }));
}

function nullShare(nulls: number, values: number): number {
  return nulls + values > 0 ? nulls / (nulls + values) : 0;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function assertSameLength(a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`histograms differ in length: ${a.length} reference bins, ${b.length} current bins`);
}

function fmt(x: number): string {
  return String(Number(x.toPrecision(3)));
}
