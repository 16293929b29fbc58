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
