import { chiSquareSurvival } from './chi-square';
import { invalidInput } from './invalid';

export interface SrmResult {
  readonly chiSquare: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
  /** Counts the design expects, in the order of `observed` */
  readonly expected: number[];
  /** Observed share of each arm */
  readonly observedShares: number[];
}

/**
 * Sample-ratio mismatch: Pearson's chi-square goodness-of-fit test of the
 * observed arm sizes against the designed split. A tiny p-value means the
 * assignment or the logging is broken, and no effect estimate can be trusted.
 * `expectedShares` need not sum to 1; they are normalised.
 */
export function srmTest(observed: readonly number[], expectedShares: readonly number[]): SrmResult {
  if (observed.length < 2) throw invalidInput(`a sample-ratio test needs at least two arms, got ${observed.length}`);
  if (observed.length !== expectedShares.length) {
    throw invalidInput(`observed has ${observed.length} arms but expectedShares has ${expectedShares.length}`);
  }
  observed.forEach((n, i) => {
    if (!(Number.isInteger(n) && n >= 0)) throw invalidInput(`observed[${i}] must be a count (a non-negative integer), got ${n}`);
  });
  expectedShares.forEach((s, i) => {
    if (!(s > 0 && Number.isFinite(s))) throw invalidInput(`expectedShares[${i}] must be positive, got ${s}`);
  });
  const total = observed.reduce((a, b) => a + b, 0);
  const shareSum = expectedShares.reduce((a, b) => a + b, 0);
  const expected = expectedShares.map((s) => (total * s) / shareSum);
  const degreesOfFreedom = observed.length - 1;
  if (total === 0) {
    return { chiSquare: 0, degreesOfFreedom, pValue: 1, expected, observedShares: observed.map(() => 0) };
  }
  const chiSquare = observed.reduce((acc, n, i) => acc + (n - expected[i]!) ** 2 / expected[i]!, 0);
  return {
    chiSquare,
    degreesOfFreedom,
    pValue: chiSquareSurvival(chiSquare, degreesOfFreedom),
    expected,
    observedShares: observed.map((n) => n / total),
  };
}
