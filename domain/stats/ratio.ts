import { assertConfidence, invalidInput } from './invalid';
import { normalQuantile, normalSurvival } from './normal';

/** One arm's sums for a ratio metric Σ numerator / Σ denominator over units (e.g. returned orders / orders). */
export interface RatioSums {
  readonly n: number;
  readonly sumNumerator: number;
  readonly sumNumerator2: number;
  readonly sumDenominator: number;
  readonly sumDenominator2: number;
  readonly sumCross: number;
}

export interface RatioDifference {
  readonly controlRatio: number;
  readonly treatmentRatio: number;
  readonly absolute: number;
  readonly standardError: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly pValue: number;
  readonly confidence: number;
}

/**
 * Variance of a ratio of sums by the delta method, where the unit of
 * randomisation (the user) is not the unit of the ratio (the order):
 * Var(R̄/D̄) ≈ (Var R − 2r·Cov(R, D) + r²·Var D) / (n·D̄²).
 */
function ratioAndVariance(s: RatioSums, what: string): { ratio: number; variance: number } {
  if (!(Number.isInteger(s.n) && s.n >= 2)) throw invalidInput(`${what}.n must be at least 2 units, got ${s.n}`);
  if (!(s.sumDenominator > 0)) throw invalidInput(`${what}: the ratio's denominator sums to ${s.sumDenominator}; it needs at least one unit with a positive denominator`);
  const n = s.n;
  const ratio = s.sumNumerator / s.sumDenominator;
  const meanD = s.sumDenominator / n;
  const varR = (s.sumNumerator2 - s.sumNumerator ** 2 / n) / (n - 1);
  const varD = (s.sumDenominator2 - s.sumDenominator ** 2 / n) / (n - 1);
  const cov = (s.sumCross - (s.sumNumerator * s.sumDenominator) / n) / (n - 1);
  return { ratio, variance: Math.max(0, varR - 2 * ratio * cov + ratio * ratio * varD) / (n * meanD * meanD) };
}

export function ratioDifference(control: RatioSums, treatment: RatioSums, confidence = 0.95): RatioDifference {
  assertConfidence(confidence);
  const c = ratioAndVariance(control, 'control');
  const t = ratioAndVariance(treatment, 'treatment');
  const absolute = t.ratio - c.ratio;
  const standardError = Math.sqrt(c.variance + t.variance);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  return {
    controlRatio: c.ratio,
    treatmentRatio: t.ratio,
    absolute,
    standardError,
    ciLow: absolute - z * standardError,
    ciHigh: absolute + z * standardError,
    pValue: standardError > 0 ? Math.min(1, 2 * normalSurvival(Math.abs(absolute / standardError))) : absolute === 0 ? 1 : 0,
    confidence,
  };
}
