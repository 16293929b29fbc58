import { invalidInput } from './invalid';
import { normalCdf, normalPdf, normalQuantile, normalSurvival } from './normal';

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
  return 4 * normalSurvival(normalQuantile(1 - alpha / 4) / Math.sqrt(t));
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
    const target = Math.max(0, alphaSpent - spent);
    const sd = Math.sqrt(info);
    let c: number;
    if (k === 0) {
      c = target > 0 ? Math.min(NO_BOUNDARY, normalQuantile(1 - target / 2)) : NO_BOUNDARY;
    } else {
      const step = Math.sqrt(info - looks[k - 1]!.information);
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
    const b = Math.min(c, 12) * sd;
    const next = simpsonGrid(-b, b);
    const nextDensity =
      k === 0
        ? next.points.map((s) => normalPdf(s / sd) / sd)
        : next.points.map((s) => {
            const step = Math.sqrt(info - looks[k - 1]!.information);
            let f = 0;
            for (let i = 0; i < grid.length; i++) f += weights[i]! * density[i]! * (normalPdf((s - grid[i]!) / step) / step);
            return f;
          });
    const stayed = next.points.reduce((acc, _s, i) => acc + next.weights[i]! * nextDensity[i]!, 0);
    spent = Math.min(alphaSpent, Math.max(spent, 1 - stayed));
    grid = next.points;
    weights = next.weights;
    density = nextDensity;
  }
  return boundaries;
}

function simpsonGrid(a: number, b: number): { points: number[]; weights: number[] } {
  const h = (b - a) / (GRID - 1);
  const points: number[] = [];
  const weights: number[] = [];
  for (let i = 0; i < GRID; i++) {
    points.push(a + i * h);
    weights.push(((i === 0 || i === GRID - 1 ? 1 : i % 2 === 1 ? 4 : 2) * h) / 3);
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
