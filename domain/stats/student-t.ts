import { invalidInput } from './invalid';
import { normalCdf, normalQuantile } from './normal';
import { lnGamma, regularizedBeta } from './special';

/** Above this many degrees of freedom Student's t is the normal distribution to double precision. */
const NORMAL_LIMIT_DF = 1e10;

function assertDf(df: number): void {
  if (!(df > 0)) throw invalidInput(`degrees of freedom must be positive, got ${df}`);
}

export function studentTPdf(t: number, df: number): number {
  assertDf(df);
  const logDensity =
    lnGamma((df + 1) / 2) - lnGamma(df / 2) - 0.5 * Math.log(df * Math.PI) - ((df + 1) / 2) * Math.log1p((t * t) / df);
  return Math.exp(logDensity);
}

/** P(T ≤ t) for Student's t with `df` (not necessarily integer) degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  assertDf(df);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  if (df > NORMAL_LIMIT_DF) return normalCdf(t);
  const t2 = t * t;
  // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2); both x and 1 − x are formed directly for precision.
  const twoSided = regularizedBeta(df / (df + t2), df / 2, 0.5, t2 / (df + t2));
  return t > 0 ? 1 - twoSided / 2 : twoSided / 2;
}

/** The t with P(T ≤ t) = p, by safeguarded Newton iteration on the CDF. */
export function studentTQuantile(p: number, df: number): number {
  assertDf(df);
  if (!(p >= 0 && p <= 1)) throw invalidInput(`probability must be within [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (p > 0.5) return -studentTQuantile(1 - p, df);
  if (df > NORMAL_LIMIT_DF) return normalQuantile(p);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));

  // The root lies in [lo, 0]; widen lo until it brackets p.
  let lo = Math.min(normalQuantile(p), -1);
  while (studentTCdf(lo, df) > p) lo *= 2;
  let hi = 0;
  let t = Math.max(lo, normalQuantile(p) * (1 + 1 / df));
  for (let i = 0; i < 200; i++) {
    const f = studentTCdf(t, df) - p;
    if (f === 0) return t;
    if (f > 0) hi = t;
    else lo = t;
    const newton = t - f / studentTPdf(t, df);
    const next = newton > lo && newton < hi ? newton : (lo + hi) / 2;
    if (Math.abs(next - t) <= 1e-15 * Math.abs(t)) return next;
    t = next;
  }
  return t;
}
