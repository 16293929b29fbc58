import { assertConfidence, invalidInput } from './invalid';
import { normalQuantile, normalSurvival } from './normal';

/** One arm's one-pass sums of an outcome y and its pre-period covariate x, over units. */
export interface CovariateSums {
  readonly n: number;
  readonly sumY: number;
  readonly sumY2: number;
  readonly sumX: number;
  readonly sumX2: number;
  readonly sumXY: number;
}

export interface AdjustedDifference {
  /** treatment − control of the adjusted means */
  readonly absolute: number;
  readonly standardError: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly zScore: number;
  readonly pValue: number;
  readonly confidence: number;
  /** The pooled within-arm regression slope of y on x */
  readonly theta: number;
  /** The unadjusted difference and its standard error, for comparison */
  readonly unadjusted: { readonly absolute: number; readonly standardError: number };
  /** 1 − adjusted variance / unadjusted variance of the difference: the share of variance removed */
  readonly varianceReduction: number;
}

interface Centred {
  n: number;
  meanY: number;
  meanX: number;
  syy: number;
  sxx: number;
  sxy: number;
}

function centre(s: CovariateSums, what: string): Centred {
  if (!(Number.isInteger(s.n) && s.n >= 2)) throw invalidInput(`${what}.n must be at least 2 units, got ${s.n}`);
  for (const k of ['sumY', 'sumY2', 'sumX', 'sumX2', 'sumXY'] as const) if (!Number.isFinite(s[k])) throw invalidInput(`${what}.${k} must be a finite number`);
  const meanY = s.sumY / s.n;
  const meanX = s.sumX / s.n;
  return {
    n: s.n,
    meanY,
    meanX,
    syy: Math.max(0, s.sumY2 - s.sumY * meanY),
    sxx: Math.max(0, s.sumX2 - s.sumX * meanX),
    sxy: s.sumXY - s.sumX * meanY,
  };
}

/**
 * CUPED (Deng, Xu, Kohavi & Walker 2013): the difference of means of
 * y − θ·(x − x̄), with θ the pooled within-arm slope of y on the pre-period
 * covariate x. Randomisation makes x independent of the arm, so the
 * adjustment removes the share ρ² of the variance that x explains without
 * biasing the effect; the interval is the normal one of the adjusted means.
 * Without variation in x (θ undefined) it is the plain difference.
 */
export function cupedDifference(control: CovariateSums, treatment: CovariateSums, confidence = 0.95): AdjustedDifference {
  assertConfidence(confidence);
  const c = centre(control, 'control');
  const t = centre(treatment, 'treatment');
  const sxx = c.sxx + t.sxx;
  const theta = sxx > 0 ? (c.sxy + t.sxy) / sxx : 0;
  const adjustedVariance = (a: Centred) => Math.max(0, a.syy - 2 * theta * a.sxy + theta * theta * a.sxx) / (a.n - 1) / a.n;
  const plainVariance = (a: Centred) => a.syy / (a.n - 1) / a.n;
  const unadjusted = { absolute: t.meanY - c.meanY, standardError: Math.sqrt(plainVariance(c) + plainVariance(t)) };
  const absolute = unadjusted.absolute - theta * (t.meanX - c.meanX);
  const standardError = Math.sqrt(adjustedVariance(c) + adjustedVariance(t));
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const zScore = standardError > 0 ? absolute / standardError : 0;
  return {
    absolute,
    standardError,
    ciLow: absolute - z * standardError,
    ciHigh: absolute + z * standardError,
    zScore,
    pValue: standardError > 0 ? Math.min(1, 2 * normalSurvival(Math.abs(zScore))) : absolute === 0 ? 1 : 0,
    confidence,
    theta,
    unadjusted,
    varianceReduction: unadjusted.standardError > 0 ? 1 - (standardError / unadjusted.standardError) ** 2 : 0,
  };
}
