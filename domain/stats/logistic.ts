/** 1 / (1 + e^−x), without overflow for large |x|. */
export function logistic(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** ln(p / (1 − p)), the inverse of the logistic function. */
export function logit(p: number): number {
  return Math.log(p) - Math.log1p(-p);
}

export interface FeatureScaling {
  readonly mean: number;
  /** Population standard deviation; 1 for a constant feature, which the model then ignores */
  readonly std: number;
}

/**
 * A logistic regression on standardised features: p = σ(intercept + Σ cⱼ·(xⱼ − meanⱼ)/stdⱼ).
 * Plain JSON, so it can be registered and passed through workflow history.
 */
export interface LogisticModel {
  readonly features: string[];
  readonly intercept: number;
  readonly coefficients: Record<string, number>;
  readonly standardisation: Record<string, FeatureScaling>;
  readonly l2: number;
  /** Aggregate passes over the training rows: one per Newton, quasi-Newton or step-halving iteration (a warm start's sample passes are not counted) */
  readonly iterations: number;
  readonly converged: boolean;
  readonly trainRows: number;
  readonly positives: number;
  /** Rows matching the filter that were left out because the label or a feature is NULL */
  readonly skippedRows: number;
  /** Mean training log loss at the last evaluated coefficients */
  readonly trainLogLoss: number;
}
