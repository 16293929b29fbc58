import type { FeatureScaling, LogisticModel } from '../domain/stats/logistic';
import { NonRetryableError } from '../domain/errors';
import { logit } from '../domain/stats';
import type { Dialect } from '../warehouse/dialect';
import { logisticScanner, type LogisticScanSource } from './logistic-scan';
import { longHash } from '../domain/naming';
import { newtonMinimise, type Scan } from './logistic-newton';
import type { TableRef } from '../domain/table-ref';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { assertDistinct, filterCondition, qualifiedColumn, sqlNumber, toNumber, type RowFilter } from './sql';
import { groupDigits } from '../domain/rollout/format';

export interface LogisticTrainingSpec {
  readonly table: TableRef;
  /** Numeric feature columns */
  readonly features: readonly string[];
  /** A 0/1 column */
  readonly label: string;
  /** Train on these rows only, e.g. { column: 'split', value: 'train' } */
  readonly filter?: RowFilter;
  /**
   * L2 penalty λ on the summed log-likelihood of the standardised model:
   * minimises Σ logloss + λ/2·‖β‖² (intercept not penalised), i.e. scikit-learn's C = 1/λ.
   */
  readonly l2: number;
  readonly maxIterations: number;
  /** Converged when no standardised coefficient moves more than this in a Newton step */
  readonly tolerance: number;
  /**
   * Tables of at least 4× this many rows are first fitted on a hash sample of
   * about this many rows, as a warm start (default WARM_START_ROWS; 0 turns it off).
   */
  readonly warmStartRows?: number;
}

/** The warm start's sample: about this many rows, drawn by a hash of each row's values */
export const WARM_START_ROWS = 50_000;
/**
 * The sample fit stops at a step this small: Newton is quadratic by then, so it is about 1e-4 from the
 * sample's optimum, which is itself a sampling error (about 1/√rows, 0.01–0.02) from the full one.
 */
const WARM_START_TOLERANCE = 1e-2;
const WARM_START_MAX_ITERATIONS = 15;

/**
 * Trains a regularised logistic regression where the data lives. One query
 * measures the features (mean, standard deviation, label balance); then each
 * iteration is one aggregate query over the training rows returning the
 * gradient of the penalised log-likelihood at the current coefficients, and
 * when needed its Hessian — (k+1)(k+2)/2 + k + 1 numbers — and the worker
 * solves the small system. Rows never leave the warehouse.
 *
 * On large tables a Newton fit on a hash sample of about WARM_START_ROWS rows
 * comes first. Its optimum is within sampling error of the full one, and its
 * Hessian (scaled to the full row count) is close to the full Hessian there,
 * so the full-data passes compute only the gradient — k + 3 sums per row
 * instead of about k²/2 — with that Hessian, improved by BFGS updates, and
 * the steps shrink about 50× a pass (1M rows × 20 features at tolerance
 * 1e-6: four gradient passes instead of six full Newton passes). A
 * fresh full Hessian is computed whenever the steps stop shrinking fast or
 * the loss rises. The optimum is the same (the gradient is exact), and so is
 * the convergence rule, with the error bound newtonMinimise explains. If the
 * sample fit fails or does not converge, training starts over as plain Newton
 * from the prevalence, so non-convergence and separable data are reported as
 * before. The model's `iterations` counts the full-data passes only.
 */
export async function trainLogisticRegression(wh: Warehouse, spec: LogisticTrainingSpec): Promise<LogisticModel> {
  checkSpec(spec);
  const d = wh.dialect;
  const where = filterCondition(d, spec.filter);
  const complete = [spec.label, ...spec.features].map((c) => `${d.quote(c)} IS NOT NULL`).join(' AND ');
  const summary = await measureTrainingRows(wh, spec, where.sql, where.params, complete);

  const standardisation: Record<string, FeatureScaling> = {};
  // Constant features carry no information and would make the Hessian singular: they keep coefficient 0.
  const design: string[] = [];
  spec.features.forEach((f, j) => {
    const { mean, std } = summary.scaling[j]!;
    const constant = !(std > 1e-12 * Math.max(1, Math.abs(mean)));
    standardisation[f] = { mean, std: constant ? 1 : std };
    if (!constant) design.push(f);
  });

  const source: LogisticScanSource = { table: spec.table, label: spec.label, design, standardisation, where: `(${where.sql}) AND ${complete}`, params: where.params };
  const scanner = logisticScanner(wh, source);
  const scan: Scan = async (beta, options) => {
    const stats = await scanner(beta, options);
    if (stats.rows !== summary.rows) {
      // Retryable on purpose: the table changed under the training run, and a fresh run will see one version of it.
      throw new Error(`${spec.table.name} changed during training: ${summary.rows} rows at the start, ${stats.rows} now`);
    }
    return stats;
  };

  // Start at the prevalence's log-odds: the exact optimum of the intercept-only model.
  const prevalenceStart = [logit(summary.positives / summary.rows), ...design.map(() => 0)];
  const warm = await warmStart(wh, spec, source, summary, prevalenceStart);
  const fit = warm
    ? await newtonMinimise(scan, warm.beta, { l2: spec.l2, maxIterations: spec.maxIterations, tolerance: spec.tolerance, reuseHessian: true, startHessian: warm.hessian })
    : await newtonMinimise(scan, prevalenceStart, { l2: spec.l2, maxIterations: spec.maxIterations, tolerance: spec.tolerance, reuseHessian: false });

  const coefficients: Record<string, number> = {};
  for (const f of spec.features) coefficients[f] = 0;
  design.forEach((f, i) => {
    coefficients[f] = fit.beta[i + 1]!;
  });
  return {
    features: [...spec.features],
    intercept: fit.beta[0]!,
    coefficients,
    standardisation,
    l2: spec.l2,
    iterations: fit.iterations,
    converged: fit.converged,
    trainRows: summary.rows,
    positives: summary.positives,
    skippedRows: summary.skipped,
    trainLogLoss: fit.negLogLikelihood / summary.rows,
  };
}

/**
 * Newton on a hash sample, with the penalty scaled to the sample so its
 * optimum estimates the full data's. The sample is drawn once into a table
 * of its own beside the training table, so each sample pass reads its few
 * rows instead of hashing the whole table again; the table is dropped
 * afterwards, and a retried run replaces it. Nothing (undefined) when the
 * table is too small for a sample to save passes, or when the sample fit
 * fails to converge: the caller then fits the full data from the prevalence.
 */
async function warmStart(
  wh: Warehouse,
  spec: LogisticTrainingSpec,
  source: LogisticScanSource,
  summary: TrainingRows,
  start: number[],
): Promise<{ beta: number[]; hessian: number[][] } | undefined> {
  const sampleRows = spec.warmStartRows ?? WARM_START_ROWS;
  if (source.design.length === 0 || sampleRows <= 0 || summary.rows < 4 * sampleRows) return undefined;
  const fraction = sampleRows / summary.rows;
  const d = wh.dialect;
  const columns = [source.label, ...source.design].map((c) => d.quote(c));
  const sampleTable = sampleTableOf(spec, source, fraction);
  await wh.createOrReplaceTableAs(sampleTable, `SELECT ${columns.join(', ')} FROM ${d.table(spec.table)} WHERE ${source.where} AND ${d.hashSample(columns, fraction)}`, source.params);
  try {
    const scanSample = logisticScanner(wh, { ...source, table: sampleTable, where: '1 = 1', params: {} });
    const fit = await newtonMinimise(scanSample, start, {
      l2: spec.l2 * fraction,
      maxIterations: Math.min(spec.maxIterations, WARM_START_MAX_ITERATIONS),
      tolerance: Math.max(spec.tolerance, WARM_START_TOLERANCE),
      reuseHessian: false,
    });
    if (!fit.converged || !fit.hessian || fit.hessian.rows === 0) return undefined;
    const scale = summary.rows / fit.hessian.rows;
    return { beta: fit.beta, hessian: fit.hessian.matrix.map((row) => row.map((h) => h * scale)) };
  } catch (err) {
    // A sample can be singular where the full data are not (a rare category it missed): fit the full data instead.
    if (err instanceof NonRetryableError && err.type === 'NotPositiveDefinite') return undefined;
    throw err;
  } finally {
    await wh.execute(d.dropTableIfExists(sampleTable));
  }
}

/** The warm start's sample table: beside the training table, named by what it samples, so two trainings never share one. */
function sampleTableOf(spec: LogisticTrainingSpec, source: LogisticScanSource, fraction: number): TableRef {
  const key = longHash(JSON.stringify({ table: spec.table, label: source.label, design: source.design, where: source.where, params: source.params, fraction }));
  return { ...(spec.table.schema ? { schema: spec.table.schema } : {}), name: `aimo_sample_${key}` };
}

/**
 * The model's probability as a SQL expression over the feature columns (of
 * `qualifier`, when the query joins several tables), for batch scoring in the
 * warehouse. A NULL feature gives a NULL score.
 */
export function scoreExpression(dialect: Dialect, model: LogisticModel, qualifier?: string): string {
  const column = (f: string) => qualifiedColumn(dialect, f, qualifier);
  const terms = model.features.map((f) => {
    const { mean, std } = model.standardisation[f] ?? missingFeature(f);
    const c = model.coefficients[f] ?? missingFeature(f);
    return `${sqlNumber(dialect, c)} * ((${dialect.cast(column(f), 'float')} - ${sqlNumber(dialect, mean)}) / ${sqlNumber(dialect, std)})`;
  });
  const eta = `(${[sqlNumber(dialect, model.intercept), ...terms].join(' + ')})`;
  return `(${dialect.logistic(eta)})`;
}

/** The same model on the original feature scale: p = σ(intercept + Σ cⱼ·xⱼ). For reading, not scoring. */
export function unstandardisedCoefficients(model: LogisticModel): { intercept: number; coefficients: Record<string, number> } {
  let intercept = model.intercept;
  const coefficients: Record<string, number> = {};
  for (const f of model.features) {
    const { mean, std } = model.standardisation[f] ?? missingFeature(f);
    const c = model.coefficients[f] ?? missingFeature(f);
    coefficients[f] = c / std;
    intercept -= (c * mean) / std;
  }
  return { intercept, coefficients };
}

function missingFeature(f: string): never {
  throw new NonRetryableError('InvalidModel', `model lists feature "${f}" but has no coefficient or scaling for it`);
}

function checkSpec(spec: LogisticTrainingSpec): void {
  const bad = (message: string) => new NonRetryableError('InvalidTrainingSpec', message);
  if (spec.features.length === 0) throw bad('features: list at least one numeric column');
  assertDistinct(spec.features, 'features');
  if (spec.features.includes(spec.label)) throw bad(`label "${spec.label}" is also listed as a feature`);
  if (!(Number.isFinite(spec.l2) && spec.l2 >= 0)) throw bad(`l2 must be a non-negative number, got ${spec.l2}`);
  if (!(Number.isInteger(spec.maxIterations) && spec.maxIterations >= 1 && spec.maxIterations <= 1000)) {
    throw bad(`maxIterations must be an integer from 1 to 1000, got ${spec.maxIterations}`);
  }
  if (!(spec.tolerance > 0 && Number.isFinite(spec.tolerance))) throw bad(`tolerance must be a positive number, got ${spec.tolerance}`);
  if (spec.warmStartRows !== undefined && !(Number.isInteger(spec.warmStartRows) && spec.warmStartRows >= 0)) {
    throw bad(`warmStartRows must be a non-negative integer (0 turns the warm start off), got ${spec.warmStartRows}`);
  }
}

interface TrainingRows {
  readonly rows: number;
  readonly positives: number;
  readonly skipped: number;
  readonly scaling: FeatureScaling[];
}

async function measureTrainingRows(
  wh: Warehouse,
  spec: LogisticTrainingSpec,
  where: string,
  params: SqlParams,
  complete: string,
): Promise<TrainingRows> {
  const d = wh.dialect;
  const y = d.cast(d.quote(spec.label), 'float');
  const whenComplete = (expr: string) => `CASE WHEN ${complete} THEN ${expr} END`;
  const perFeature = spec.features.map((f, j) => {
    const x = d.cast(d.quote(f), 'float');
    return `AVG(${whenComplete(x)}) AS ${d.quote(`mean_${j}`)}, STDDEV_POP(${whenComplete(x)}) AS ${d.quote(`std_${j}`)}`;
  });
  const [row] = await wh.query(
    `SELECT COUNT(*) AS ${d.quote('filtered')},
            SUM(CASE WHEN ${complete} THEN 1 ELSE 0 END) AS ${d.quote('complete')},
            SUM(${whenComplete(y)}) AS ${d.quote('positives')},
            SUM(CASE WHEN ${complete} AND ${y} <> 0 AND ${y} <> 1 THEN 1 ELSE 0 END) AS ${d.quote('bad_labels')},
            ${perFeature.join(',\n            ')}
     FROM ${d.table(spec.table)} WHERE ${where}`,
    params,
  );
  const r = row ?? {};
  const rows = toNumber(r['complete']);
  const positives = toNumber(r['positives']);
  const badLabels = toNumber(r['bad_labels']);
  const scope = spec.filter ? ` where ${spec.filter.column} = ${JSON.stringify(spec.filter.value)}` : '';
  if (badLabels > 0) {
    throw new NonRetryableError('InvalidLabel', `label ${spec.label} has ${badLabels} values other than 0 and 1${scope}: the label must be 0/1`);
  }
  if (rows === 0) {
    throw new NonRetryableError('NoTrainingRows', `no complete training rows in ${spec.table.name}${scope}: check the filter and NULLs in the label and features`);
  }
  if (positives === 0 || positives === rows) {
    const only = positives === 0 ? 0 : 1;
    // Digits grouped by spaces whatever the worker's locale: "27 517", as people read counts.
    const count = groupDigits(rows);
    throw new NonRetryableError(
      'SingleClassLabel',
      `the label column \`${spec.label}\` is ${only} on all ${count} training rows${scope}: ${only === 0 ? 'no row has the outcome' : 'every row has the outcome'}, and a model needs rows with and without it`,
    );
  }
  return {
    rows,
    positives,
    skipped: toNumber(r['filtered']) - rows,
    scaling: spec.features.map((_, j) => ({ mean: toNumber(r[`mean_${j}`]), std: toNumber(r[`std_${j}`]) })),
  };
}
