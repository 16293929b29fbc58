import { invalidInput } from './invalid';
import { normalCdf, normalQuantile, normalSurvival } from './normal';

/**
 * Power of the two-sided two-proportion z test, as statsmodels'
 * power_proportions_2indep computes it: the pooled variance under the null,
 * the unpooled one under the alternative.
 */
export interface ProportionPowerInput {
  readonly controlRate: number;
  /** treatment − control under the alternative */
  readonly absoluteEffect: number;
  readonly controlUsers: number;
  readonly treatmentUsers: number;
  readonly alpha: number;
}

function checkRate(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) throw invalidInput(`${what} must be a rate within [0, 1], got ${p}`);
}

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw invalidInput(`alpha must be strictly between 0 and 1, got ${alpha}`);
}

export function proportionTestPower(input: ProportionPowerInput): number {
  const { controlRate: p2, absoluteEffect: d, controlUsers, treatmentUsers, alpha } = input;
  checkRate(p2, 'controlRate');
  checkRate(p2 + d, 'controlRate + absoluteEffect');
  checkAlpha(alpha);
  if (!(controlUsers > 0 && treatmentUsers > 0)) throw invalidInput(`both arms need users, got ${controlUsers} control and ${treatmentUsers} treatment`);
  const p1 = p2 + d;
  const ratio = controlUsers / treatmentUsers;
  const pooled = (p1 + p2 * ratio) / (1 + ratio);
  const sdNull = Math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio));
  const sdAlt = Math.sqrt(p1 * (1 - p1) + (p2 * (1 - p2)) / ratio);
  if (sdAlt === 0) return d === 0 ? alpha : 1;
  const crit = normalQuantile(1 - alpha / 2);
  const shift = (d * Math.sqrt(treatmentUsers)) / sdAlt;
  const ratioSd = sdNull / sdAlt;
  return normalSurvival(crit * ratioSd - shift) + normalCdf(-crit * ratioSd - shift);
}

/** Smallest positive absolute effect the test detects with the given power. */
export function minimumDetectableEffect(input: Omit<ProportionPowerInput, 'absoluteEffect'> & { readonly power: number }): number {
  checkRate(input.controlRate, 'controlRate');
  if (!(input.power > input.alpha / 2 && input.power < 1)) throw invalidInput(`power must be between alpha/2 and 1, got ${input.power}`);
  let lo = 0;
  let hi = 1 - input.controlRate;
  if (hi <= 0 || proportionTestPower({ ...input, absoluteEffect: hi }) < input.power) return Infinity;
  for (let i = 0; i < 100 && hi - lo > 1e-12 * Math.max(1e-6, hi); i++) {
    const mid = (lo + hi) / 2;
    if (proportionTestPower({ ...input, absoluteEffect: mid }) >= input.power) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Users the test needs in all (split by treatmentShare) to detect absoluteEffect with the given power. */
export function requiredUsers(input: { controlRate: number; absoluteEffect: number; treatmentShare: number; alpha: number; power: number }): number {
  const { treatmentShare: s } = input;
  if (!(s > 0 && s < 1)) throw invalidInput(`treatmentShare must be strictly between 0 and 1, got ${s}`);
  if (input.absoluteEffect === 0) return Infinity;
  const at = (n: number) => proportionTestPower({ ...input, controlUsers: n * (1 - s), treatmentUsers: n * s });
  let hi = 16;
  while (at(hi) < input.power) {
    hi *= 2;
    if (hi > 1e13) return Infinity;
  }
  let lo = hi / 2;
  while (hi - lo > 0.5) {
    const mid = (lo + hi) / 2;
    if (at(mid) >= input.power) hi = mid;
    else lo = mid;
  }
  return Math.ceil(hi);
}
