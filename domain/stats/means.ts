import { assertConfidence, invalidInput } from './invalid';
import { studentTCdf, studentTQuantile } from './student-t';

/** What a warehouse can sum in one pass: count, sum and sum of squares of a per-unit metric. */
export interface MomentSums {
  readonly n: number;
  readonly sum: number;
  readonly sumOfSquares: number;
}

export interface MeanAndVariance {
  readonly n: number;
  readonly mean: number;
  /** Sample variance (n − 1 in the denominator) */
  readonly variance: number;
}

export function meanAndVariance(s: MomentSums): MeanAndVariance {
  if (!(Number.isInteger(s.n) && s.n >= 2)) throw invalidInput(`a variance needs at least 2 units, got n = ${s.n}`);
  if (!Number.isFinite(s.sum) || !Number.isFinite(s.sumOfSquares)) throw invalidInput('sum and sumOfSquares must be finite numbers');
  const mean = s.sum / s.n;
  // The one-pass formula can dip a hair below zero through rounding when all values agree.
  const variance = Math.max(0, (s.sumOfSquares - s.sum * mean) / (s.n - 1));
  return { n: s.n, mean, variance };
}

export interface MeanDifference {
  readonly controlMean: number;
  readonly treatmentMean: number;
  /** treatment − control */
  readonly absolute: number;
  /** treatment / control − 1; null when the control mean is 0 */
  readonly relative: number | null;
  readonly standardError: number;
  /** Welch–Satterthwaite degrees of freedom */
  readonly degreesOfFreedom: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly tStatistic: number;
  readonly pValue: number;
  readonly confidence: number;
}

/**
 * Welch's interval for the difference of two means with unequal variances,
 * from per-arm sums (e.g. revenue per user, zeros included for non-buyers).
 */
export function welchDifference(control: MomentSums, treatment: MomentSums, confidence = 0.95): MeanDifference {
  assertConfidence(confidence);
  const c = meanAndVariance(control);
  const t = meanAndVariance(treatment);
  const vc = c.variance / c.n;
  const vt = t.variance / t.n;
  const standardError = Math.sqrt(vc + vt);
  const absolute = t.mean - c.mean;
  // With no variance at all the Satterthwaite ratio is 0/0; the pooled count is its natural limit.
  const degreesOfFreedom = vc + vt > 0 ? (vc + vt) ** 2 / (vc ** 2 / (c.n - 1) + vt ** 2 / (t.n - 1)) : c.n + t.n - 2;
  const q = studentTQuantile(1 - (1 - confidence) / 2, degreesOfFreedom);
  let tStatistic: number;
  let pValue: number;
  if (standardError > 0) {
    tStatistic = absolute / standardError;
    pValue = Math.min(1, 2 * studentTCdf(-Math.abs(tStatistic), degreesOfFreedom));
  } else {
    tStatistic = absolute === 0 ? 0 : Math.sign(absolute) * Infinity;
    pValue = absolute === 0 ? 1 : 0;
  }
  return {
    controlMean: c.mean,
    treatmentMean: t.mean,
    absolute,
    relative: c.mean !== 0 ? t.mean / c.mean - 1 : null,
    standardError,
    degreesOfFreedom,
    ciLow: absolute - q * standardError,
    ciHigh: absolute + q * standardError,
    tStatistic,
    pValue,
    confidence,
  };
}
