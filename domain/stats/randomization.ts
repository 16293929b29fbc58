import { invalidInput } from './invalid';

export interface PairedRandomizationInterval {
  /** Mean of the pair differences */
  readonly estimate: number;
  readonly ciLow: number;
  readonly ciHigh: number;
  /** Two-sided randomisation p-value of "no effect" */
  readonly pValue: number;
  readonly confidence: number;
  /** Sign patterns the reference distribution is made of (2^pairs when exact) */
  readonly flips: number;
  readonly exact: boolean;
}

/**
 * Randomisation inference for a matched-pairs design: within each pair a
 * coin chose which unit is treated, so under "the effect is τ in every
 * pair" each pair's difference minus τ is as likely to have either sign.
 * The p-value of τ is the share of sign patterns whose |Σ s·(d − τ)| is at
 * least the observed one; the interval is every τ with a p-value above
 * 1 − confidence (test inversion, Fisher's exact test and its
 * Hodges–Lehmann-style interval). All 2^pairs patterns are used up to
 * `maxFlips`, a fixed pseudo-random sample of them beyond, so the result is
 * a pure function of its input.
 */
export function pairedRandomizationInterval(differences: readonly number[], confidence = 0.95, maxFlips = 4096): PairedRandomizationInterval {
  const pairs = differences.length;
  if (pairs < 2) throw invalidInput(`a paired randomisation test needs at least 2 pairs, got ${pairs}`);
  differences.forEach((d, i) => {
    if (!Number.isFinite(d)) throw invalidInput(`differences[${i}] must be a finite number, got ${d}`);
  });
  if (!(confidence > 0 && confidence < 1)) throw invalidInput(`confidence must be strictly between 0 and 1, got ${confidence}`);
  const alpha = 1 - confidence;
  // |T| is symmetric in s ↔ −s, so the smallest attainable p-value is 2 / 2^pairs.
  if (2 / 2 ** pairs > alpha) {
    throw invalidInput(`${pairs} pairs cannot reach confidence ${confidence}: the smallest randomisation p-value is ${2 / 2 ** pairs}; use at least ${Math.ceil(Math.log2(2 / alpha))} pairs`);
  }
  const exact = 2 ** pairs <= maxFlips;
  const patterns = exact ? 2 ** pairs : maxFlips;
  // For each sign pattern s: A = Σ s·d and B = Σ s, so Σ s·(d − τ) = A − τ·B.
  const a = new Float64Array(patterns);
  const b = new Float64Array(patterns);
  const rand = mulberry32(0x9e3779b9 ^ pairs);
  for (let k = 0; k < patterns; k++) {
    let sa = 0;
    let sb = 0;
    for (let p = 0; p < pairs; p++) {
      // Pattern 0 is the observed assignment (all +), so the sampled reference contains it.
      const plus = exact ? ((k >> p) & 1) === 0 : k === 0 || rand() < 0.5;
      sa += plus ? differences[p]! : -differences[p]!;
      sb += plus ? 1 : -1;
    }
    a[k] = sa;
    b[k] = sb;
  }
  const pValue = (tau: number) => {
    const observed = Math.abs(a[0]! - tau * pairs) * (1 - 1e-12);
    let extreme = 0;
    for (let k = 0; k < patterns; k++) if (Math.abs(a[k]! - tau * b[k]!) >= observed) extreme++;
    return extreme / patterns;
  };
  const estimate = a[0]! / pairs;
  const spread = Math.max(...differences) - Math.min(...differences) + Math.abs(estimate) + 1e-12;
  const bound = (direction: 1 | -1) => {
    let inside = estimate;
    let outside = estimate + direction * spread;
    // The smallest attainable p-value is at most alpha (checked above), so a far enough τ is rejected.
    for (let k = 0; pValue(outside) > alpha; k++) {
      if (k >= 60) return direction * Infinity;
      outside = estimate + direction * spread * 2 ** (k + 1);
    }
    for (let i = 0; i < 100 && Math.abs(outside - inside) > 1e-12 * spread; i++) {
      const mid = (inside + outside) / 2;
      if (pValue(mid) > alpha) inside = mid;
      else outside = mid;
    }
    return inside;
  };
  return { estimate, ciLow: bound(-1), ciHigh: bound(1), pValue: pValue(0), confidence, flips: patterns, exact };
}

/** A small seeded generator (Tommy Ettinger's mulberry32): the same seed, the same sign patterns. */
function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
