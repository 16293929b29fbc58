import { newtonMinimise, secantUpdate, type Scan } from '../analytics/logistic-newton';
import { logistic } from '../domain/stats';

/**
 * The solver behind trainLogisticRegression, on an in-memory logistic
 * regression: whatever Hessian it is started with — good, far too small
 * (steps overshoot and raise the loss) or too large (steps shrink slowly) —
 * it ends at plain Newton's optimum, by the same convergence rule.
 */
const unit = (i: number, salt: number) => {
  const x = Math.sin(i * 12.9898 + salt * 78.233) * 43758.5453;
  return x - Math.floor(x);
};
const ROWS = Array.from({ length: 3000 }, (_, i) => {
  const z = [2 * unit(i, 1) - 1, unit(i, 2) < 0.4 ? 1 : -0.5, 3 * (unit(i, 3) - 0.5)];
  const eta = 0.3 + 1.2 * z[0]! - 0.8 * z[1]! + 0.5 * z[2]!;
  return { z: [1, ...z], y: unit(i, 4) < logistic(eta) ? 1 : 0 };
});
const L2 = 0.5;

function inMemoryScan(calls: Array<{ hessian: boolean }>): Scan {
  return async (beta, options) => {
    calls.push({ hessian: options.hessian });
    const size = beta.length;
    const gradient = new Array<number>(size).fill(0);
    const hessian = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    let nll = 0;
    for (const { z, y } of ROWS) {
      const eta = z.reduce((s, v, j) => s + v * beta[j]!, 0);
      const p = logistic(eta);
      nll += Math.max(eta, 0) + Math.log1p(Math.exp(-Math.abs(eta))) - y * eta;
      for (let a = 0; a < size; a++) {
        gradient[a]! += (p - y) * z[a]!;
        for (let b = 0; b < size; b++) hessian[a]![b]! += p * (1 - p) * z[a]! * z[b]!;
      }
    }
    return { rows: ROWS.length, negLogLikelihood: nll, gradient, ...(options.hessian ? { hessian } : {}) };
  };
}

const options = { l2: L2, maxIterations: 50, tolerance: 1e-10 };
const start = [0, 0, 0, 0];

async function hessianAt(beta: number[]): Promise<number[][]> {
  const stats = await inMemoryScan([])(beta, { hessian: true });
  return stats.hessian!;
}

describe('newtonMinimise', () => {
  let plain: Awaited<ReturnType<typeof newtonMinimise>>;

  beforeAll(async () => {
    plain = await newtonMinimise(inMemoryScan([]), start, { ...options, reuseHessian: false });
  });

  it('plain Newton converges and its optimum zeroes the penalised gradient', async () => {
    expect(plain.converged).toBe(true);
    const stats = await inMemoryScan([])(plain.beta, { hessian: false });
    const penalised = stats.gradient.map((g, i) => (i === 0 ? g : g + L2 * plain.beta[i]!));
    expect(Math.max(...penalised.map(Math.abs))).toBeLessThan(1e-6);
  });

  it.each([
    ['a good Hessian (at the optimum)', 1],
    ['a Hessian far too small: overshooting steps are taken back', 0.05],
    ['a Hessian too large: slow steps ask for a fresh one', 4],
  ])('warm-started near the optimum with %s, ends at the same optimum', async (_what, factor) => {
    const calls: Array<{ hessian: boolean }> = [];
    const startHessian = (await hessianAt(plain.beta)).map((row) => row.map((h) => h * factor));
    const warm = plain.beta.map((b, i) => b + (i % 2 === 0 ? 0.05 : -0.05));
    const result = await newtonMinimise(inMemoryScan(calls), warm, { ...options, reuseHessian: true, startHessian });
    expect(result.converged).toBe(true);
    result.beta.forEach((b, i) => expect(Math.abs(b - plain.beta[i]!)).toBeLessThan(1e-9));
    const fresh = calls.filter((c) => c.hessian).length;
    if (factor === 1) expect(fresh).toBe(0);
    else expect(fresh).toBeGreaterThan(0);
  });

  it('stops at maxIterations without claiming convergence, returning the last accepted point', async () => {
    const result = await newtonMinimise(inMemoryScan([]), start, { ...options, maxIterations: 2, reuseHessian: false });
    expect(result.converged).toBe(false);
    expect(result.iterations).toBe(2);
  });
});

describe('secantUpdate', () => {
  it('makes the approximation reproduce the gradient change along the step (B·s = y), staying symmetric', () => {
    const b = [
      [4, 1, 0],
      [1, 3, 0.5],
      [0, 0.5, 2],
    ];
    const s = [0.1, -0.2, 0.3];
    const y = [0.5, -0.4, 0.9];
    const updated = secantUpdate(b, s, y);
    const bs = updated.map((row) => row.reduce((sum, v, j) => sum + v * s[j]!, 0));
    bs.forEach((v, i) => expect(v).toBeCloseTo(y[i]!, 12));
    updated.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(updated[j]![i]!, 14)));
    // Without curvature along the step (yᵀs ≤ 0) nothing is learnt and B stays as it was.
    expect(secantUpdate(b, s, s.map((v) => -v))).toBe(b);
  });
});
