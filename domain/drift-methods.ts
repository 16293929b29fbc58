import { chiSquareSurvival } from './stats/chi-square';

/**
 * The drift tests and distances aimo can judge a feature by, and which one
 * it picks when the plan does not say. Pure functions of aggregates: counts
 * per bin or category, sums per fine bin. No rows.
 */

/** Statistical tests (`ks`, `chisquare`) drift when p < threshold; distances when the distance ≥ threshold. */
export const DRIFT_METHODS = ['ks', 'chisquare', 'wasserstein', 'jensenshannon', 'psi'] as const;
export type DriftMethod = (typeof DRIFT_METHODS)[number];

export const NUMERIC_METHODS: readonly DriftMethod[] = ['ks', 'wasserstein', 'jensenshannon', 'psi'];
export const CATEGORICAL_METHODS: readonly DriftMethod[] = ['chisquare', 'jensenshannon', 'psi'];

export function isTest(method: DriftMethod): boolean {
  return method === 'ks' || method === 'chisquare';
}

/**
 * Up to this many non-null reference values a feature is judged by a
 * significance test; above it by a distance. A test's power grows with the
 * sample, so on large windows it calls every negligible shift significant; a
 * distance with a threshold does not, but on small windows its sampling
 * noise alone crosses the threshold. 1000 is where Evidently switches too.
 */
export const SMALL_SAMPLE_ROWS = 1000;

/** Below this many non-null values in either window no verdict is given: no test or distance says anything useful on so few. */
export const DEFAULT_MIN_ROWS = 30;

/** A numeric column with at most this many distinct reference values is compared as discrete values (Jensen–Shannon), not by Wasserstein. */
export const DISCRETE_VALUES = 5;

export const DEFAULT_METHOD_THRESHOLDS: Readonly<Record<DriftMethod, number>> = {
  ks: 0.05,
  chisquare: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
};

/** The method aimo picks for a feature from its kind and the reference's size. */
export function autoMethod(kind: 'numeric' | 'categorical', referenceValues: number, discrete: boolean): DriftMethod {
  if (referenceValues <= SMALL_SAMPLE_ROWS) return kind === 'numeric' ? 'ks' : 'chisquare';
  return kind === 'numeric' && !discrete ? 'wasserstein' : 'jensenshannon';
}

export interface ChiSquareResult {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
}

/**
 * Pearson's chi-square test of homogeneity on a 2 × k table (reference and
 * current counts per category). Categories empty in both windows carry no
 * information and are dropped; with fewer than two categories left there is
 * nothing to compare, p = 1. For two categories it equals the two-proportion
 * z-test (z² = χ²).
 */
export function chiSquareHomogeneity(referenceCounts: readonly number[], currentCounts: readonly number[]): ChiSquareResult {
  const r = referenceCounts.reduce((a, b) => a + b, 0);
  const c = currentCounts.reduce((a, b) => a + b, 0);
  const n = r + c;
  let statistic = 0;
  let categories = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const total = referenceCounts[i]! + currentCounts[i]!;
    if (total === 0) continue;
    categories++;
    const expectedR = (total * r) / n;
    const expectedC = (total * c) / n;
    statistic += (referenceCounts[i]! - expectedR) ** 2 / expectedR + (currentCounts[i]! - expectedC) ** 2 / expectedC;
  }
  const degreesOfFreedom = categories - 1;
  if (degreesOfFreedom < 1 || r === 0 || c === 0) return { statistic: 0, degreesOfFreedom: Math.max(0, degreesOfFreedom), pValue: 1 };
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom) };
}

/**
 * One fine bin of a numeric column: how many values of each window fell into
 * it and their sums, and the smallest and largest value of either window in
 * it. Fine bins are equal-width over the range of both windows.
 */
export interface FineBin {
  readonly referenceCount: number;
  readonly currentCount: number;
  readonly referenceSum: number;
  readonly currentSum: number;
  readonly min: number;
  readonly max: number;
}

/** A bin holding a single distinct value: its CDF step is known exactly. */
export const isSingleValue = (b: FineBin): boolean => b.min === b.max;

export interface BinnedKs {
  /** sup |F_ref − F_cur| over the bin boundaries and single-value bins: a lower bound of the exact statistic */
  readonly lower: number;
  /** No value inside a bin can raise the statistic above this */
  readonly upper: number;
  /** Whether some bin's inside could still hold a larger difference than `lower` */
  readonly open: boolean;
}

/**
 * The KS statistic from fine-bin counts, bracketed: the CDF difference is
 * exact at every bin boundary, and inside a bin it can move by at most the
 * bin's share of either window. A bin holding one distinct value steps once,
 * so it is exact too. Where the bracket is open, only a look at finer bins
 * or at the raw values can settle it.
 */
export function binnedKs(bins: readonly FineBin[], referenceTotal: number, currentTotal: number): BinnedKs {
  let r = 0;
  let c = 0;
  let lower = 0;
  const inner: number[] = [];
  for (const b of bins) {
    const d = r / referenceTotal - c / currentTotal;
    lower = Math.max(lower, Math.abs(d));
    const rShare = b.referenceCount / referenceTotal;
    const cShare = b.currentCount / currentTotal;
    if (isSingleValue(b)) lower = Math.max(lower, Math.abs(d + rShare - cShare));
    else inner.push(Math.max(d + rShare, -(d - cShare)));
    r += b.referenceCount;
    c += b.currentCount;
  }
  const upper = Math.max(lower, ...inner);
  return { lower, upper, open: upper > lower };
}

/**
 * Wasserstein-1 distance between the windows, each fine bin's values of one
 * window placed at their mean: exact for discrete columns (one value per
 * bin), and off by less than one bin width (range / bins) otherwise.
 * Divided by the reference's standard deviation, as Evidently does, so that
 * 0.1 means "a tenth of a standard deviation of mass moved" on any scale.
 */
export function normedWasserstein(bins: readonly FineBin[], referenceTotal: number, currentTotal: number, referenceStd: number): number {
  const points: Array<{ x: number; w: number }> = [];
  for (const b of bins) {
    if (b.referenceCount > 0) points.push({ x: b.referenceSum / b.referenceCount, w: b.referenceCount / referenceTotal });
    if (b.currentCount > 0) points.push({ x: b.currentSum / b.currentCount, w: -b.currentCount / currentTotal });
  }
  points.sort((a, b) => a.x - b.x);
  let distance = 0;
  let difference = 0;
  for (let i = 0; i < points.length - 1; i++) {
    difference += points[i]!.w;
    distance += Math.abs(difference) * (points[i + 1]!.x - points[i]!.x);
  }
  // Evidently's floor for a (nearly) constant reference, so a moved constant reads as a large distance, not infinity.
  return distance / Math.max(referenceStd, 0.001);
}
