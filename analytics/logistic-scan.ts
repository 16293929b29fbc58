import type { FeatureScaling } from '../domain/stats/logistic';
import type { Dialect } from '../warehouse/dialect';
import type { TableRef } from '../domain/table-ref';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { sqlNumber, toNumber } from './sql';

/** What one pass over the training rows returns at given coefficients. */
export interface LogisticScan {
  readonly rows: number;
  readonly negLogLikelihood: number;
  /** ∂/∂β of the (unpenalised) negative log-likelihood */
  readonly gradient: number[];
  /** Its second derivatives, when asked for: the expensive part, (k+1)(k+2)/2 sums per row */
  readonly hessian?: number[][];
}

export interface ScanOptions {
  readonly hessian: boolean;
}

export interface LogisticScanSource {
  readonly table: TableRef;
  readonly label: string;
  /** Feature columns of the design, in coefficient order after the intercept */
  readonly design: readonly string[];
  readonly standardisation: Readonly<Record<string, FeatureScaling>>;
  /** Which rows train: the filter and completeness conditions */
  readonly where: string;
  readonly params: SqlParams;
}

/** Runs one aggregate pass over the training rows where they live. */
export type LogisticScanner = (beta: readonly number[], options: ScanOptions) => Promise<LogisticScan>;

export function logisticScanner(wh: Warehouse, source: LogisticScanSource): LogisticScanner {
  const query = logisticScanQuery(wh.dialect, source);
  return async (beta, options) => {
    const [row] = await wh.query(query(beta, options), source.params);
    return readScan(row ?? {}, [1, ...source.design.map((f) => source.standardisation[f]!.std)], options.hessian);
  };
}

/**
 * The SQL of one pass. Per row it computes the linear predictor, then
 * e = exp(−|η|) once, and from it the probability and the log-loss (the same
 * values sqlLogistic and sqlSoftplus give, with one EXP instead of three);
 * the residual p − y and the weight p(1 − p) become columns, and for the
 * Hessian so do the weighted features w·uᵢ, so each of its sums multiplies
 * two columns instead of four factors. Features are only centred in SQL,
 * uᵢ = xᵢ − meanᵢ: the division by the standard deviation is folded into the
 * coefficients of η and applied to the few sums in the worker (readScan),
 * not to every row.
 */
export function logisticScanQuery(d: Dialect, source: LogisticScanSource): (beta: readonly number[], options: ScanOptions) => string {
  const k = source.design.length;
  const u = (i: number) => `aimo_u${i}`;
  const uColumns = source.design.map((_, j) => u(j + 1));
  const scaling = source.design.map((f) => source.standardisation[f]!);
  const centred = source.design.map((f, j) => `${d.cast(d.quote(f), 'float')} - ${sqlNumber(d, scaling[j]!.mean)} AS ${u(j + 1)}`);
  const base = (from: string, where: string) => `SELECT ${[`${d.cast(d.quote(source.label), 'float')} AS aimo_y`, ...centred].join(', ')} FROM ${from} WHERE ${where}`;
  const carried = uColumns.join(', ');
  const withComma = k > 0 ? `${carried}, ` : '';

  const gradientSums = [`SUM(aimo_r) AS ${d.quote('g_0')}`, ...uColumns.map((c, j) => `SUM(aimo_r * ${c}) AS ${d.quote(`g_${j + 1}`)}`)];
  const hessianSums: string[] = [`SUM(aimo_w) AS ${d.quote('h_0_0')}`];
  for (let i = 1; i <= k; i++) hessianSums.push(`SUM(aimo_wu${i}) AS ${d.quote(`h_0_${i}`)}`);
  for (let i = 1; i <= k; i++) for (let j = i; j <= k; j++) hessianSums.push(`SUM(aimo_wu${i} * ${u(j)}) AS ${d.quote(`h_${i}_${j}`)}`);
  const weighted = uColumns.map((c, j) => `aimo_w * ${c} AS aimo_wu${j + 1}`);

  return (beta, options) => {
    const eta = [sqlNumber(d, beta[0]!), ...uColumns.map((c, j) => `${sqlNumber(d, beta[j + 1]! / scaling[j]!.std)} * ${c}`)].join(' + ');
    const aggregates = [`COUNT(*) AS ${d.quote('n')}`, `SUM(aimo_loss) AS ${d.quote('nll')}`, ...gradientSums, ...(options.hessian ? hessianSums : [])];
    const training = base(d.table(source.table), source.where);
    const scored = `SELECT ${withComma}aimo_p - aimo_y AS aimo_r, aimo_p * (1.0 - aimo_p) AS aimo_w,
         CASE WHEN aimo_eta > 0 THEN aimo_eta + LN(1.0 + aimo_e) ELSE LN(1.0 + aimo_e) END - aimo_y * aimo_eta AS aimo_loss
  FROM (
    SELECT ${withComma}aimo_y, aimo_eta, aimo_e,
           CASE WHEN aimo_eta >= 0 THEN 1.0 / (1.0 + aimo_e) ELSE aimo_e / (1.0 + aimo_e) END AS aimo_p
    FROM (
      SELECT ${withComma}aimo_y, aimo_eta, EXP(-ABS(aimo_eta)) AS aimo_e
      FROM (SELECT ${withComma}aimo_y, ${eta} AS aimo_eta FROM (${training}) aimo_base) aimo_linear
    ) aimo_exp
  ) aimo_prob`;
    const rows = options.hessian ? `SELECT aimo_r, aimo_w, aimo_loss${k > 0 ? `, ${carried}, ${weighted.join(', ')}` : ''} FROM (${scored}) aimo_scored` : scored;
    return `SELECT ${aggregates.join(',\n       ')}\nFROM (${rows}) aimo_rows`;
  };
}

/** Reads the sums back, dividing by the standard deviations the SQL left out: derivatives in standardised units. */
function readScan(r: Readonly<Record<string, unknown>>, scale: readonly number[], withHessian: boolean): LogisticScan {
  const size = scale.length;
  const gradient = Array.from({ length: size }, (_, i) => toNumber(r[`g_${i}`]) / scale[i]!);
  let hessian: number[][] | undefined;
  if (withHessian) {
    hessian = Array.from({ length: size }, () => new Array<number>(size).fill(0));
    for (let i = 0; i < size; i++) {
      for (let j = i; j < size; j++) {
        const h = toNumber(r[`h_${i}_${j}`]) / (scale[i]! * scale[j]!);
        hessian[i]![j] = h;
        hessian[j]![i] = h;
      }
    }
  }
  return { rows: toNumber(r['n']), negLogLikelihood: toNumber(r['nll']), gradient, ...(hessian ? { hessian } : {}) };
}
