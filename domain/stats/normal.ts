import { invalidInput } from './invalid';

/**
 * Math's functions held once: a global lookup per call is slow where code runs
 * in a separate V8 context (Node's vm, as Jest runs tests), and the
 * integrals below call them millions of times.
 */
const { abs, exp, log, sqrt, trunc } = Math;

/**
 * The standard normal distribution. The CDF is W. J. Cody's rational
 * Chebyshev approximation (as in R's pnorm), accurate to double precision in
 * both tails; the quantile is Acklam's approximation polished by one Halley
 * step against that CDF.
 */

const SQRT_2PI = sqrt(2 * Math.PI);
const INV_SQRT_2PI = 1 / SQRT_2PI;
const SQRT_32 = sqrt(32);

const A = [2.2352520354606837, 161.02823106855587, 1067.6894854603709, 18154.98125334356, 0.06568233791820745];
const B = [47.202581904688245, 976.0985517377767, 10260.932208618979, 45507.78933502673];
const C = [
  0.39894151208813466, 8.883149794388377, 93.50665613217785, 597.2702763948002, 2494.5375852903726,
  6848.190450536283, 11602.65143764735, 9842.714838383978, 1.0765576773720192e-8,
];
const D = [
  22.266688044328117, 235.387901782625, 1519.3775994075547, 6485.558298266761, 18615.571640885097,
  34900.95272114598, 38912.00328609327, 19685.429676859992,
];
const P = [0.215898534057957, 0.12740116116024736, 0.022235277870649807, 0.0014216191932278934, 2.9112874951168793e-5, 0.023073441764940174];
const Q = [1.284260096144911, 0.4682382124808651, 0.06598813786892856, 0.0037823963320275824, 7.297515550839662e-5];

export function normalPdf(x: number): number {
  return INV_SQRT_2PI * exp(-0.5 * x * x);
}

/** P(Z ≤ x) */
export function normalCdf(x: number): number {
  return normalTails(x).lower;
}

/** P(Z > x), precise far into the upper tail (where 1 − normalCdf(x) would round to 0). */
export function normalSurvival(x: number): number {
  return normalTails(x).upper;
}

function normalTails(x: number): { lower: number; upper: number } {
  if (Number.isNaN(x)) return { lower: NaN, upper: NaN };
  const y = abs(x);
  if (y <= 0.67448975) {
    let num = 0;
    let den = 0;
    if (y > 1e-16) {
      const xsq = x * x;
      num = A[4]! * xsq;
      den = xsq;
      for (let i = 0; i < 3; i++) {
        num = (num + A[i]!) * xsq;
        den = (den + B[i]!) * xsq;
      }
    }
    const t = (x * (num + A[3]!)) / (den + B[3]!);
    return { lower: 0.5 + t, upper: 0.5 - t };
  }
  let tail: number;
  if (y <= SQRT_32) {
    let num = C[8]! * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + C[i]!) * y;
      den = (den + D[i]!) * y;
    }
    tail = gaussianFactor(y) * ((num + C[7]!) / (den + D[7]!));
  } else if (y < 38) {
    const xsq = 1 / (x * x);
    let num = P[5]! * xsq;
    let den = xsq;
    for (let i = 0; i < 4; i++) {
      num = (num + P[i]!) * xsq;
      den = (den + Q[i]!) * xsq;
    }
    const t = (xsq * (num + P[4]!)) / (den + Q[4]!);
    tail = (gaussianFactor(y) * (INV_SQRT_2PI - t)) / y;
  } else {
    tail = 0;
  }
  return x > 0 ? { lower: 1 - tail, upper: tail } : { lower: tail, upper: 1 - tail };
}

/** exp(−y²/2), split so that the square is formed without rounding error (Cody's trick). */
function gaussianFactor(y: number): number {
  const head = trunc(y * 16) / 16;
  const del = (y - head) * (y + head);
  return exp(-head * head * 0.5) * exp(-del * 0.5);
}

const ACKLAM_A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const ACKLAM_B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const ACKLAM_C = [-7.784894002430293e-3, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const ACKLAM_D = [7.784695709041462e-3, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

/** The x with P(Z ≤ x) = p. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw invalidInput(`probability must be within [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  // 1 − p is exact for p in [0.5, 1], so the upper half reuses the lower half without loss.
  if (p > 0.5) return -lowerHalfQuantile(1 - p);
  return lowerHalfQuantile(p);
}

function lowerHalfQuantile(p: number): number {
  let x: number;
  if (p < 0.02425) {
    const q = sqrt(-2 * log(p));
    const [c0, c1, c2, c3, c4, c5] = ACKLAM_C as [number, number, number, number, number, number];
    const [d0, d1, d2, d3] = ACKLAM_D as [number, number, number, number];
    x = (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    const [a0, a1, a2, a3, a4, a5] = ACKLAM_A as [number, number, number, number, number, number];
    const [b0, b1, b2, b3, b4] = ACKLAM_B as [number, number, number, number, number];
    x = ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
  }
  // exp(x²/2) overflows below p ≈ 1e-300; Acklam's 1e-9 relative error is the best we can offer there.
  if (p > 1e-300) {
    const e = normalCdf(x) - p;
    const u = e * SQRT_2PI * exp((x * x) / 2);
    x = x - u / (1 + (x * u) / 2);
  }
  return x;
}
