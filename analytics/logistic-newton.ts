import { NonRetryableError } from '../domain/errors';
import { choleskySolve } from '../domain/stats';
import type { LogisticScan, ScanOptions } from './logistic-scan';

const MAX_STEP_HALVINGS = 30;

/**
 * A step made with a Hessian from an earlier point (or from a sample) counts
 * towards convergence only while the steps shrink at least this fast: the
 * error left after it is then at most as large as the step itself.
 */
const MAX_REUSED_CONTRACTION = 0.5;

export interface NewtonOptions {
  /** L2 penalty on every coefficient but the intercept (index 0) */
  readonly l2: number;
  readonly maxIterations: number;
  /** Converged when no coefficient moves more than this in a step */
  readonly tolerance: number;
  /**
   * Reuse the last Hessian for the next steps (a chord method) instead of
   * computing one in every pass, refreshing it when the steps stop shrinking
   * fast or the loss rises. Off: every pass computes the Hessian (plain Newton).
   */
  readonly reuseHessian: boolean;
  /** An unpenalised Hessian to start from, e.g. one scaled up from a sample fit; implies reuseHessian */
  readonly startHessian?: number[][];
}

export interface NewtonResult {
  readonly beta: number[];
  /** Passes over the data, step halvings included */
  readonly iterations: number;
  readonly converged: boolean;
  /** At the last accepted coefficients */
  readonly negLogLikelihood: number;
  readonly rows: number;
  /** The unpenalised Hessian of the last pass that computed one, and the rows it summed */
  readonly hessian?: { readonly matrix: number[][]; readonly rows: number };
}

export type Scan = (beta: readonly number[], options: ScanOptions) => Promise<LogisticScan>;

/**
 * Minimises Σ logloss + λ/2·‖β₁..ₖ‖² by Newton steps, one aggregate pass per
 * iteration. Newton overshoots when far from the optimum (nearly separable
 * data): a step that raises the loss is halved. With reuseHessian a pass
 * computes only the gradient (k + 1 sums per row instead of about k²/2) as
 * long as the steps keep contracting; a reused-Hessian step that raises the
 * loss is taken back and replaced by a fresh Newton step from the same point.
 *
 * The convergence rule is plain Newton's: no coefficient moves more than the
 * tolerance in a step. A step with a reused Hessian counts only when it is at
 * most MAX_REUSED_CONTRACTION times the step before: the iteration then
 * contracts by ρ ≤ ½, the error left after the step is at most ρ/(1 − ρ) of
 * it, within the tolerance, and the step itself is within a factor (1 ± ρ) of
 * the Newton step at that point.
 */
export async function newtonMinimise(scan: Scan, start: readonly number[], options: NewtonOptions): Promise<NewtonResult> {
  const reuse = options.reuseHessian || options.startHessian !== undefined;
  let beta = [...start];
  let accepted: { beta: number[]; loss: number; direction: number[]; fresh: boolean; gradient: number[] } | undefined;
  let hessian = options.startHessian ? { matrix: options.startHessian, rows: NaN } : undefined;
  // The penalised Hessian the steps use: a fresh one, or a reused one improved by secant (BFGS) updates.
  let model: number[][] | undefined;
  let refresh = hessian === undefined;
  let previousStep: number | undefined;
  let stepScale = 1;
  let halvings = 0;
  let iterations = 0;
  let converged = false;
  let negLogLikelihood = NaN;
  let rows = 0;

  while (iterations < options.maxIterations) {
    iterations++;
    const withHessian = refresh || !reuse;
    const stats = await scan(beta, { hessian: withHessian });
    const penalisedLoss = stats.negLogLikelihood + (options.l2 / 2) * beta.slice(1).reduce((s, b) => s + b * b, 0);

    if (accepted && penalisedLoss > accepted.loss + 1e-12 * Math.abs(accepted.loss)) {
      if (!accepted.fresh) {
        // The reused Hessian misled: back to the last good point, for a Newton step with its own Hessian.
        beta = accepted.beta;
        accepted = undefined;
        model = undefined;
        previousStep = undefined;
        refresh = true;
        continue;
      }
      if (halvings < MAX_STEP_HALVINGS) {
        halvings++;
        stepScale /= 2;
        beta = accepted.beta.map((b, i) => b + stepScale * accepted!.direction[i]!);
        continue;
      }
    }

    negLogLikelihood = stats.negLogLikelihood;
    rows = stats.rows;
    const fresh = stats.hessian !== undefined;
    const gradient = stats.gradient.map((g, i) => (i === 0 ? g : g + options.l2 * beta[i]!));
    if (stats.hessian) hessian = { matrix: stats.hessian, rows: stats.rows };
    if (fresh || !model) {
      model = hessian!.matrix.map((row, i) => row.map((h, j) => (i === j && i > 0 ? h + options.l2 : h)));
    } else if (accepted) {
      // The gradient's change over the last step tells how the Hessian differs from the reused one along it.
      model = secantUpdate(model, beta.map((b, i) => b - accepted!.beta[i]!), gradient.map((g, i) => g - accepted!.gradient[i]!));
    }
    const direction = solveNewtonStep(model, gradient);
    const step = Math.max(...direction.map(Math.abs));
    const contraction = previousStep === undefined ? undefined : step / previousStep;
    const contracting = contraction !== undefined && contraction <= MAX_REUSED_CONTRACTION;
    accepted = { beta, loss: penalisedLoss, direction, fresh, gradient };
    stepScale = 1;
    halvings = 0;
    previousStep = step;
    beta = beta.map((b, i) => b + direction[i]!);
    if (step <= options.tolerance && (fresh || contracting)) {
      converged = true;
      break;
    }
    // A fresh Hessian serves the next step too; a reused one only while the steps shrink fast.
    refresh = !fresh && contraction !== undefined && !contracting;
  }
  if (!converged && accepted) beta = accepted.beta;
  return { beta, iterations, converged, negLogLikelihood, rows, ...(hessian && Number.isFinite(hessian.rows) ? { hessian } : {}) };
}

/**
 * BFGS update of a Hessian approximation B from a step s and the gradient's
 * change y over it: B + yyᵀ/(yᵀs) − (Bs)(Bs)ᵀ/(sᵀBs). It keeps B symmetric
 * and positive definite while yᵀs > 0, which convexity guarantees; otherwise
 * (rounding on a tiny step) B is left as it is.
 */
export function secantUpdate(b: number[][], s: number[], y: number[]): number[][] {
  const bs = b.map((row) => row.reduce((sum, v, j) => sum + v * s[j]!, 0));
  const ys = y.reduce((sum, v, i) => sum + v * s[i]!, 0);
  const sbs = s.reduce((sum, v, i) => sum + v * bs[i]!, 0);
  if (!(ys > 0 && sbs > 0)) return b;
  return b.map((row, i) => row.map((v, j) => v + (y[i]! * y[j]!) / ys - (bs[i]! * bs[j]!) / sbs));
}

/** Newton direction −H⁻¹g; a tiny ridge rescues a Hessian made singular by collinear features when λ = 0. */
export function solveNewtonStep(hessian: number[][], gradient: number[]): number[] {
  let ridge = 0;
  const scale = Math.max(...hessian.map((row, i) => Math.abs(row[i]!)), 1e-300);
  for (;;) {
    try {
      return choleskySolve(hessian, gradient, ridge).map((x) => -x);
    } catch (err) {
      if (!(err instanceof NonRetryableError && err.type === 'NotPositiveDefinite') || ridge > scale) throw err;
      ridge = ridge === 0 ? scale * 1e-10 : ridge * 100;
    }
  }
}
