import { assertConfidence, invalidInput } from './invalid';
import { normalQuantile, normalSurvival } from './normal';

export interface BinomialCounts {
  readonly successes: number;
  readonly trials: number;
}

export interface ProportionDifference {
  readonly controlRate: number;
  readonly treatmentRate: number;
  /** treatment − control */
  readonly absolute: number;
  readonly standardError: number;
  /** Wald interval of the absolute difference */
  readonly ciLow: number;
  readonly ciHigh: number;
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
 * Difference of two independent proportions, e.g. conversion rates of the
 * treatment and control arms. The absolute interval is Wald's (unpooled),
 * which is what the large samples of marketing experiments call for; the test
 * uses the pooled standard error, as the null hypothesis says the rates agree.
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
    ciLow: absolute - z * standardError,
    ciHigh: absolute + z * standardError,
    relative: pc > 0 ? pt / pc - 1 : null,
    relativeCiLow,
    relativeCiHigh,
    zScore,
    pValue,
    confidence,
  };
}
