import { invalidInput } from './invalid';
import { regularizedGammaP, regularizedGammaQ } from './special';

function assertDf(df: number): void {
  if (!(df > 0)) throw invalidInput(`degrees of freedom must be positive, got ${df}`);
}

export function chiSquareCdf(x: number, df: number): number {
  assertDf(df);
  return regularizedGammaP(df / 2, x / 2);
}

/** P(χ² > x): the p-value of a chi-square statistic. */
export function chiSquareSurvival(x: number, df: number): number {
  assertDf(df);
  if (x === Infinity) return 0;
  return regularizedGammaQ(df / 2, x / 2);
}
