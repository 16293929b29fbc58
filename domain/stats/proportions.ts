import { assertConfidence, invalidInput } from './invalid';
import { normalQuantile, normalSurvival } from './normal';

export interface BinomialCounts {
  readonly successes: number;
  readonly trials: number;
}

export interface ProportionInterval {
  readonly rate: number;
  readonly ciLow: number;
  readonly ciHigh: number;
}

export interface ProportionDifference {
  readonly controlRate: number;
  readonly treatmentRate: number;
  /** treatment − control */
  readonly absolute: number;
  /** Unpooled standard error of the difference (0 when both rates are 0 or 1) */
  readonly standardError: number;
  /** Newcombe's hybrid score interval of the absolute difference: valid at 0 %, 100 % and small n */
  readonly ciLow: number;
  readonly ciHigh: number;
  /** Wald's interval, for comparison: it collapses to a point at 0 % or 100 % */
  readonly waldCiLow: number;
  readonly waldCiHigh: number;
  /** treatment / control − 1; null when the control rate is 0 */
  readonly relative: number | null;
  /** Interval of the relative lift from the log risk ratio (Katz); null when either rate is 0 */
  readonly relativeCiLow: number | null;
  readonly relativeCiHigh: number | null;
  /** Pooled two-proportion z test of "no difference" */
  readonly zScore: number;
  readonly pValue: number;
  readonly confidence: number;
}

function checkCounts(c: BinomialCounts, what: string): void {
  if (!(Number.isInteger(c.trials) && c.trials > 0)) throw invalidInput(`${what}.trials must be a positive integer, got ${c.trials}`);
  if (!(Number.isInteger(c.successes) && c.successes >= 0 && c.successes <= c.trials)) {
    throw invalidInput(`${what}.successes must be an integer between 0 and trials (${c.trials}), got ${c.successes}`);
  }
}

/**
 * Wilson's score interval of one proportion: it never leaves [0, 1] and keeps
 * a positive width at 0 and n successes, where Wald's interval collapses.
 */
export function wilsonInterval(counts: BinomialCounts, confidence = 0.95): ProportionInterval {
  checkCounts(counts, 'counts');
  assertConfidence(confidence);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const n = counts.trials;
  const p = counts.successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // At the edges the exact bound is the edge itself; the formula reaches it only up to rounding.
  return { rate: p, ciLow: counts.successes === 0 ? 0 : Math.max(0, centre - half), ciHigh: counts.successes === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Difference of two independent proportions, e.g. conversion rates of the
 * treatment and control arms. The interval is Newcombe's hybrid score
 * interval (his method 10), built from the two Wilson intervals: at the sizes
 * of marketing tests it equals Wald's to a few decimals, and it stays valid
 * with no or only conversions and with a handful of users, where Wald's is
 * [0, 0] or [1, 1]. The test uses the pooled standard error, as the null
 * hypothesis says the rates agree.
 */
export function differenceOfProportions(
  control: BinomialCounts,
  treatment: BinomialCounts,
  confidence = 0.95,
): ProportionDifference {
  checkCounts(control, 'control');
  checkCounts(treatment, 'treatment');
  assertConfidence(confidence);
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const pc = control.successes / control.trials;
  const pt = treatment.successes / treatment.trials;
  const absolute = pt - pc;
  const standardError = Math.sqrt((pc * (1 - pc)) / control.trials + (pt * (1 - pt)) / treatment.trials);
  const wc = wilsonInterval(control, confidence);
  const wt = wilsonInterval(treatment, confidence);

  const pooled = (control.successes + treatment.successes) / (control.trials + treatment.trials);
  const pooledSe = Math.sqrt(pooled * (1 - pooled) * (1 / control.trials + 1 / treatment.trials));
  const zScore = pooledSe > 0 ? absolute / pooledSe : 0;
  const pValue = pooledSe > 0 ? Math.min(1, 2 * normalSurvival(Math.abs(zScore))) : 1;

  let relativeCiLow: number | null = null;
  let relativeCiHigh: number | null = null;
  if (pc > 0 && pt > 0) {
    const logRatio = Math.log(pt / pc);
    const logSe = Math.sqrt((1 - pc) / control.successes + (1 - pt) / treatment.successes);
    relativeCiLow = Math.exp(logRatio - z * logSe) - 1;
    relativeCiHigh = Math.exp(logRatio + z * logSe) - 1;
  }
  return {
    controlRate: pc,
    treatmentRate: pt,
    absolute,
    standardError,
    ciLow: absolute - Math.sqrt((pt - wt.ciLow) ** 2 + (wc.ciHigh - pc) ** 2),
    ciHigh: absolute + Math.sqrt((wt.ciHigh - pt) ** 2 + (pc - wc.ciLow) ** 2),
    waldCiLow: absolute - z * standardError,
    waldCiHigh: absolute + z * standardError,
    relative: pc > 0 ? pt / pc - 1 : null,
    relativeCiLow,
    relativeCiHigh,
    zScore,
    pValue,
    confidence,
  };
}
