/**
 * Thompson sampling over Bernoulli arms (clicks out of impressions), in pure
 * code with a seeded random generator: workflow code calls it with a seed
 * derived from its own id and round, so a replay draws the same numbers.
 *
 * Allocation is probability matching in batches: each round, every arm gets
 * the share of traffic equal to its posterior probability of being the best
 * arm, after a burn-in of equal shares and with a floor per arm. A winner is
 * declared when one arm's probability of being best reaches a threshold.
 */

export interface ArmStats {
  readonly armId: string;
  readonly impressions: number;
  readonly clicks: number;
}

export interface BanditSettings {
  readonly burnInImpressions: number;
  readonly minShare: number;
  readonly winnerProbability: number;
  /** Posterior draws used to estimate P(best); more is smoother and slower */
  readonly draws?: number;
}

export interface Allocation {
  readonly shares: Record<string, number>;
  readonly pBest: Record<string, number>;
  readonly phase: 'burn-in' | 'thompson';
  /** The arm whose P(best) reached the threshold, after the burn-in */
  readonly winner?: string;
}

/** sfc32 seeded through splitmix32: small, fast, good enough for simulation, and pure. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
}

function normal(rand: () => number): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Marsaglia–Tsang gamma sampler (shape > 0, scale 1). */
export function sampleGamma(shape: number, rand: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, rand) * Math.pow(rand() || Number.MIN_VALUE, 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rand);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rand();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function sampleBeta(alpha: number, beta: number, rand: () => number): number {
  const x = sampleGamma(alpha, rand);
  const y = sampleGamma(beta, rand);
  return x / (x + y);
}

/** P(arm is best) under Beta(1 + clicks, 1 + misses) posteriors, by Monte Carlo. */
export function probabilityBest(arms: readonly ArmStats[], rand: () => number, draws = 4000): Record<string, number> {
  const wins = arms.map(() => 0);
  for (let i = 0; i < draws; i++) {
    let best = 0;
    let bestValue = -1;
    arms.forEach((arm, k) => {
      const v = sampleBeta(1 + arm.clicks, 1 + Math.max(0, arm.impressions - arm.clicks), rand);
      if (v > bestValue) {
        bestValue = v;
        best = k;
      }
    });
    wins[best]! += 1;
  }
  return Object.fromEntries(arms.map((arm, k) => [arm.armId, wins[k]! / draws]));
}

/** Next round's traffic shares and the winner rule. */
export function allocate(arms: readonly ArmStats[], settings: BanditSettings, rand: () => number): Allocation {
  if (arms.length === 0) throw new Error('a bandit needs at least one arm');
  const pBest = probabilityBest(arms, rand, settings.draws ?? 4000);
  const even = 1 / arms.length;
  if (arms.some((a) => a.impressions < settings.burnInImpressions)) {
    return { shares: Object.fromEntries(arms.map((a) => [a.armId, even])), pBest, phase: 'burn-in' };
  }
  // The floor can't exceed an even split; what's above it follows P(best).
  const floor = Math.min(settings.minShare, even);
  const rest = 1 - floor * arms.length;
  const shares = Object.fromEntries(arms.map((a) => [a.armId, floor + rest * pBest[a.armId]!]));
  const leader = arms.reduce((best, a) => (pBest[a.armId]! > pBest[best.armId]! ? a : best));
  const winner = pBest[leader.armId]! >= settings.winnerProbability ? leader.armId : undefined;
  return { shares, pBest, phase: 'thompson', ...(winner ? { winner } : {}) };
}

/** Whole impressions per arm from shares; the remainder goes to the largest shares, deterministically. */
export function splitImpressions(shares: Record<string, number>, total: number): Record<string, number> {
  const ids = Object.keys(shares).sort();
  const exact = ids.map((id) => shares[id]! * total);
  const whole = exact.map(Math.floor);
  let left = total - whole.reduce((a, b) => a + b, 0);
  const order = ids.map((_, i) => i).sort((i, j) => exact[j]! - whole[j]! - (exact[i]! - whole[i]!) || i - j);
  for (const i of order) {
    if (left <= 0) break;
    whole[i]! += 1;
    left -= 1;
  }
  return Object.fromEntries(ids.map((id, i) => [id, whole[i]!]));
}

export interface Regret {
  /** Expected clicks lost against always showing the best arm */
  readonly bandit: number;
  /** The same for an even split of the same traffic */
  readonly evenSplit: number;
  /** bandit / evenSplit: below 1 means the bandit lost fewer clicks */
  readonly ratio: number | null;
}

/** Regret from the traffic each arm got and the (known, simulated) true click rates. */
export function regret(impressionsByArm: Record<string, number>, trueRate: Record<string, number>): Regret {
  const ids = Object.keys(trueRate);
  const best = Math.max(...ids.map((id) => trueRate[id]!));
  const mean = ids.reduce((s, id) => s + trueRate[id]!, 0) / ids.length;
  const total = ids.reduce((s, id) => s + (impressionsByArm[id] ?? 0), 0);
  const bandit = ids.reduce((s, id) => s + (impressionsByArm[id] ?? 0) * (best - trueRate[id]!), 0);
  const evenSplit = total * (best - mean);
  return { bandit, evenSplit, ratio: evenSplit > 0 ? bandit / evenSplit : null };
}

/** A binomial draw (exact for small n, normal approximation above). */
export function sampleBinomial(n: number, p: number, rand: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 1000) {
    let k = 0;
    for (let i = 0; i < n; i++) if (rand() < p) k++;
    return k;
  }
  const k = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(rand));
  return Math.min(n, Math.max(0, k));
}
