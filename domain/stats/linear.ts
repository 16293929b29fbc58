import { NonRetryableError } from '../errors';
import { invalidInput } from './invalid';

export type Matrix = readonly (readonly number[])[];

function checkSquareSymmetric(a: Matrix): number {
  const n = a.length;
  if (n === 0) throw invalidInput('matrix is empty');
  a.forEach((row, i) => {
    if (row.length !== n) throw invalidInput(`matrix row ${i} has ${row.length} entries, expected ${n}`);
    row.forEach((v, j) => {
      if (!Number.isFinite(v)) throw invalidInput(`matrix entry [${i}][${j}] is not a finite number: ${v}`);
    });
  });
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const x = a[i]![j]!;
      const y = a[j]![i]!;
      if (Math.abs(x - y) > 1e-10 * Math.max(1, Math.abs(x), Math.abs(y))) {
        throw invalidInput(`matrix is not symmetric: [${i}][${j}] = ${x} but [${j}][${i}] = ${y}`);
      }
    }
  }
  return n;
}

/**
 * Lower-triangular L with A + ridge·I = L·Lᵀ. The ridge regularises a matrix
 * that is positive semi-definite but singular (collinear features). Throws a
 * NotPositiveDefinite error naming the pivot when the factorisation breaks down.
 */
export function choleskyDecompose(a: Matrix, ridge = 0): number[][] {
  const n = checkSquareSymmetric(a);
  if (!(ridge >= 0 && Number.isFinite(ridge))) throw invalidInput(`ridge must be a non-negative number, got ${ridge}`);
  const l: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let j = 0; j < n; j++) {
    let diag = a[j]![j]! + ridge;
    for (let k = 0; k < j; k++) diag -= l[j]![k]! ** 2;
    if (!(diag > 0)) {
      throw new NonRetryableError(
        'NotPositiveDefinite',
        `matrix is not positive definite (pivot ${j} is ${diag}): the columns are collinear; add a ridge or drop a column`,
      );
    }
    const ljj = Math.sqrt(diag);
    l[j]![j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i]![j]!;
      for (let k = 0; k < j; k++) s -= l[i]![k]! * l[j]![k]!;
      l[i]![j] = s / ljj;
    }
  }
  return l;
}

/** Solves (A + ridge·I)·x = b for a symmetric positive-definite A. */
export function choleskySolve(a: Matrix, b: readonly number[], ridge = 0): number[] {
  const l = choleskyDecompose(a, ridge);
  const n = l.length;
  if (b.length !== n) throw invalidInput(`right-hand side has ${b.length} entries, expected ${n}`);
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i]![k]! * y[k]!;
    y[i] = s / l[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k]![i]! * x[k]!;
    x[i] = s / l[i]![i]!;
  }
  return x;
}
