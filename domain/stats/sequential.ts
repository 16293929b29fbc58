import { invalidInput } from './invalid';
import { normalCdf, normalPdf, normalQuantile, normalSurvival } from './normal';

/**
 * Math's functions held once: a global lookup per call is slow where code runs
 * in a separate V8 context (Node's vm, as Jest runs tests), and the
 * integrals below call them millions of times.
 */
const { abs, exp, max, min, sqrt } = Math;

/**
 * Group-sequential testing with alpha spending (Lan & DeMets 1983): the
 * error rate is spent over the looks by a spending function of the
 * information fraction, and each look's two-sided boundary is the z value
 * whose crossing probability, given no earlier crossing, is the alpha spent
 * there. The crossing probabilities come from the joint law of the z
 * statistics (independent increments in information time), integrated on
 * a grid as in Jennison & Turnbull (2000), ch. 19. Looks can be taken at any
 * information levels, decided as the test goes: only the levels so far
 * enter a boundary.
 */

/** Two-sided O'Brien–Fleming-type spending: α(t) = 4·(1 − Φ(z_{1−α/4} / √t)), α(1) = α. */
export function obrienFlemingSpending(t: number, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw invalidInput(`alpha must be strictly between 0 and 1, got ${alpha}`);
  if (!(t >= 0)) throw invalidInput(`information fraction must be ≥ 0, got ${t}`);
  if (t === 0) return 0;
  if (t >= 1) return alpha;
  return 4 * normalSurvival(normalQuantile(1 - alpha / 4) / sqrt(t));
}

export interface SequentialLook {
  /** Statistical information at the look: 1 / variance of the estimate */
  readonly information: number;
  /** Cumulative two-sided alpha to have spent by this look */
  readonly alphaSpent: number;
}

const GRID = 401; // odd, for Simpson's rule
/** Beyond this z a boundary is "no crossing possible": the look spends nothing. */
const NO_BOUNDARY = 40;

/**
 * The z boundaries of looks 1…k, for symmetric two-sided stopping
 * (|Z| ≥ c: stop; Z > 0 a win, Z < 0 harm). Information must increase.
 */
export function groupSequentialBoundaries(looks: readonly SequentialLook[]): number[] {
  if (looks.length === 0) throw invalidInput('a group-sequential test needs at least one look');
  looks.forEach((l, i) => {
    if (!(l.information > 0 && Number.isFinite(l.information))) throw invalidInput(`looks[${i}].information must be a positive number, got ${l.information}`);
    if (i > 0 && !(l.information > looks[i - 1]!.information)) throw invalidInput(`looks[${i}].information must exceed the previous look's`);
    if (!(l.alphaSpent >= 0 && l.alphaSpent < 1)) throw invalidInput(`looks[${i}].alphaSpent must be within [0, 1), got ${l.alphaSpent}`);
  });
  const boundaries: number[] = [];
  // Density of the score S = Z·√I on the continuation region of the previous look, on a grid.
  let grid: number[] = [];
  let density: number[] = [];
  let weights: number[] = [];
  let spent = 0;
  for (let k = 0; k < looks.length; k++) {
    const { information: info, alphaSpent } = looks[k]!;
    const target = max(0, alphaSpent - spent);
    const sd = sqrt(info);
    let c: number;
    if (k === 0) {
      c = target > 0 ? min(NO_BOUNDARY, normalQuantile(1 - target / 2)) : NO_BOUNDARY;
    } else {
      const step = sqrt(info - looks[k - 1]!.information);
      const crossing = (b: number) => {
        let p = 0;
        for (let i = 0; i < grid.length; i++) {
          const u = grid[i]!;
          p += weights[i]! * density[i]! * (normalCdf((-b - u) / step) + normalSurvival((b - u) / step));
        }
        return p;
      };
      if (target <= 0) c = NO_BOUNDARY;
      else {
        let lo = 0;
        let hi = NO_BOUNDARY * sd;
        if (crossing(lo) <= target) hi = 0;
        for (let i = 0; i < 200 && hi - lo > 1e-10 * sd; i++) {
          const mid = (lo + hi) / 2;
          if (crossing(mid) > target) lo = mid;
          else hi = mid;
        }
        c = hi / sd;
      }
    }
    boundaries.push(c);
    // The actual spend (the boundary is capped) carries into the next look's target.
    const b = min(c, 12) * sd;
    const next = simpsonGrid(-b, b);
    const nextDensity =
      k === 0
        ? next.points.map((s) => normalPdf(s / sd) / sd)
        : next.points.map((s) => {
            const step = sqrt(info - looks[k - 1]!.information);
            let f = 0;
            for (let i = 0; i < grid.length; i++) f += weights[i]! * density[i]! * (normalPdf((s - grid[i]!) / step) / step);
            return f;
          });
    const stayed = next.points.reduce((acc, _s, i) => acc + next.weights[i]! * nextDensity[i]!, 0);
    spent = min(alphaSpent, max(spent, 1 - stayed));
    grid = next.points;
    weights = next.weights;
    density = nextDensity;
  }
  return boundaries;
}

function simpsonGrid(a: number, b: number, size = GRID): { points: number[]; weights: number[] } {
  const h = (b - a) / (size - 1);
  const points: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < size; i++) {
    points.push(a + i * h);
    weights.push(((i === 0 || i === size - 1 ? 1 : i % 2 === 1 ? 4 : 2) * h) / 3);
  }
  return { points, weights };
}

export interface SequentialDecision {
  readonly boundary: number;
  readonly zScore: number;
  /** The repeated confidence interval: estimate ± boundary · standard error, valid at every look together */
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly stop: 'win' | 'harm' | null;
}

/** The decision at a look: stop for a win or for harm when |z| reaches the boundary. */
export function sequentialDecision(estimate: number, standardError: number, boundary: number): SequentialDecision {
  if (!(standardError > 0)) throw invalidInput(`standardError must be positive, got ${standardError}`);
  const zScore = estimate / standardError;
  const stop = zScore >= boundary ? 'win' : zScore <= -boundary ? 'harm' : null;
  return { boundary, zScore, ciLow: estimate - boundary * standardError, ciHigh: estimate + boundary * standardError, stop };
}

/** One look of a finished test, for the interval at its end: its information and the boundary it did not cross. */
export interface TakenLook {
  readonly information: number;
  readonly boundary: number;
}

export interface StagewiseInterval {
  readonly ciLow: number;
  readonly ciHigh: number;
  readonly confidence: number;
}

/** Grid of the interval's crossing integrals: the densities are smooth, so Simpson on 101 points is accurate to ~1e-6. */
const INTERVAL_GRID = 101;

/**
 * The confidence interval at the end of a group-sequential test under the
 * stage-wise ordering (Tsiatis, Rosner & Mehta 1984; Jennison & Turnbull
 * 2000, §8.4): the effects θ for which the observed end, stopping at look k
 * with statistic z, is not among the α/2 most extreme outcomes on either
 * side. An outcome is more extreme upwards when it crossed the upper
 * boundary at an earlier look, or stopped at look k with a larger z. Unlike
 * the repeated interval (valid at every look together, and so conservative
 * at the one look the test ends on), it has its nominal coverage, and it
 * excludes 0 exactly when the test rejected. `looks` are the looks taken,
 * the last one the end; z and the standard error are those of the last look,
 * whose effect the interval is for.
 */
export function stagewiseInterval(looks: readonly TakenLook[], z: number, standardError: number, confidence: number): StagewiseInterval {
  if (looks.length === 0) throw invalidInput('a stage-wise interval needs at least one look');
  if (!(standardError > 0)) throw invalidInput(`standardError must be positive, got ${standardError}`);
  if (!(confidence > 0 && confidence < 1)) throw invalidInput(`confidence must be strictly between 0 and 1, got ${confidence}`);
  if (!Number.isFinite(z)) throw invalidInput(`z must be a finite number, got ${z}`);
  const last = looks[looks.length - 1]!.information;
  // Information as a fraction of the last look's: the score S_j = Z_j·√t_j is a Brownian motion with drift μ = θ / standardError.
  const t = looks.map((l, i) => {
    if (!(l.information > 0) || (i > 0 && !(l.information > looks[i - 1]!.information))) throw invalidInput(`looks[${i}].information must be positive and increasing`);
    return l.information / last;
  });
  const tail = (1 - confidence) / 2;
  const paths = continuationDensities(t, looks);
  const q = normalQuantile(1 - tail);
  const low = solveDrift((mu) => exceedance(paths, t, looks, z, mu, 'above') - tail, z - q);
  const high = solveDrift((mu) => tail - exceedance(paths, t, looks, z, mu, 'below'), z + q);
  return { ciLow: low * standardError, ciHigh: high * standardError, confidence };
}

interface Continuation {
  readonly points: number[];
  /** Simpson weight × the sub-density, under no drift, of S_j on this look's continuation region */
  readonly mass: number[];
}

/**
 * For every look but the last: where S_j can be having crossed no boundary
 * so far, under drift 0. The densities under any drift μ follow without
 * integrating again: a Brownian path's likelihood ratio depends only on its
 * end, so the sub-density at look j is this one times exp(μ·s − μ²·t_j / 2).
 */
function continuationDensities(t: readonly number[], looks: readonly TakenLook[]): Continuation[] {
  const out: Continuation[] = [];
  for (let j = 0; j < t.length - 1; j++) {
    const edge = min(looks[j]!.boundary, 12) * sqrt(t[j]!);
    const next = simpsonGrid(-edge, edge, INTERVAL_GRID);
    const prev = out[j - 1];
    const step = j === 0 ? t[0]! : t[j]! - t[j - 1]!;
    const sd = sqrt(step);
    const density = next.points.map((s) => {
      if (!prev) return normalPdf(s / sd) / sd;
      // The normal density written out: this double loop is the interval's main cost.
      const scale = 1 / (sd * sqrt(2 * Math.PI));
      const spread = -1 / (2 * step);
      let f = 0;
      for (let i = 0; i < prev.points.length; i++) {
        const d = s - prev.points[i]!;
        f += prev.mass[i]! * exp(spread * d * d);
      }
      return f * scale;
    });
    out.push({ points: next.points, mass: density.map((f, i) => f * next.weights[i]!) });
  }
  return out;
}

/** P(an end more extreme than the observed one) above or below it, when the drift is μ. */
function exceedance(paths: readonly Continuation[], t: readonly number[], looks: readonly TakenLook[], z: number, mu: number, side: 'above' | 'below'): number {
  const up = side === 'above';
  let p = 0;
  for (let j = 0; j < t.length; j++) {
    const step = j === 0 ? t[0]! : t[j]! - t[j - 1]!;
    const sd = sqrt(step);
    const shift = mu * step;
    // Crossing this look's boundary (or, at the end, passing z), having stayed inside every earlier one.
    const edge = j === t.length - 1 ? z : (up ? 1 : -1) * min(looks[j]!.boundary, 12) * sqrt(t[j]!);
    const prev = paths[j - 1];
    if (!prev) {
      p += up ? normalSurvival((edge - shift) / sd) : normalCdf((edge - shift) / sd);
      continue;
    }
    const tilt = (mu * mu * t[j - 1]!) / 2;
    for (let i = 0; i < prev.points.length; i++) {
      const u = prev.points[i]!;
      const x = (edge - u - shift) / sd;
      p += prev.mass[i]! * exp(mu * u - tilt) * (up ? normalSurvival(x) : normalCdf(x));
    }
  }
  return p;
}

/** The drift where an increasing function of it crosses 0, by the Illinois variant of regula falsi, starting around a guess. */
function solveDrift(f: (mu: number) => number, guess: number): number {
  let a = guess - 0.5;
  let b = guess + 0.5;
  let fa = f(a);
  let fb = f(b);
  for (let widen = 1; fa > 0 && widen < 60; widen++) {
    b = a;
    fb = fa;
    fa = f((a -= widen));
  }
  for (let widen = 1; fb < 0 && widen < 60; widen++) {
    a = b;
    fa = fb;
    fb = f((b += widen));
  }
  let side = 0;
  for (let i = 0; i < 100 && b - a > 1e-8; i++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = f(c);
    if (abs(fc) < 1e-13) return c;
    if (fc < 0) {
      a = c;
      fa = fc;
      if (side === -1) fb /= 2;
      side = -1;
    } else {
      b = c;
      fb = fc;
      if (side === 1) fa /= 2;
      side = 1;
    }
  }
  return (a * fb - b * fa) / (fb - fa);
}
