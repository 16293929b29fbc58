import type { FeatureScaling, LogisticModel } from '../domain/stats/logistic';
import { NonRetryableError } from '../domain/errors';
import { choleskySolve, logit } from '../domain/stats';
import type { Dialect } from '../warehouse/dialect';
import type { TableRef } from '../domain/table-ref';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { assertDistinct, filterCondition, qualifiedColumn, sqlLogistic, sqlNumber, sqlSoftplus, toNumber, type RowFilter } from './sql';
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
}



const MAX_STEP_HALVINGS = 30;

/**
 * Trains a regularised logistic regression where the data lives. One query
 * measures the features (mean, standard deviation, label balance); then each
 * Newton iteration is one aggregate query returning the gradient and Hessian
 * of the penalised log-likelihood at the current coefficients — (k+1)(k+2)/2
 * + k + 1 numbers — and the worker solves the small system. Rows never leave
 * the warehouse.
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

  const iterate = buildIterationQuery(d, spec, design, standardisation, where.sql, complete);

  // Start at the prevalence's log-odds: the exact optimum of the intercept-only model.
  let beta = [logit(summary.positives / summary.rows), ...design.map(() => 0)];
  let accepted: { beta: number[]; loss: number; direction: number[] } | undefined;
  let stepScale = 1;
  let halvings = 0;
  let iterations = 0;
  let converged = false;
  let meanLogLoss = NaN;

  while (iterations < spec.maxIterations) {
    iterations++;
    const stats = await evaluateAt(wh, iterate, beta, where.params);
    if (stats.rows !== summary.rows) {
      // Retryable on purpose: the table changed under the training run, and a fresh run will see one version of it.
      throw new Error(`${spec.table.name} changed during training: ${summary.rows} rows at the start, ${stats.rows} now`);
    }
    const penalisedLoss = stats.negLogLikelihood + (spec.l2 / 2) * beta.slice(1).reduce((s, b) => s + b * b, 0);

    // Newton overshoots when far from the optimum (nearly separable data): halve the step instead.
    if (accepted && penalisedLoss > accepted.loss + 1e-12 * Math.abs(accepted.loss) && halvings < MAX_STEP_HALVINGS) {
      halvings++;
      stepScale /= 2;
      beta = accepted.beta.map((b, i) => b + stepScale * accepted!.direction[i]!);
      continue;
    }

    meanLogLoss = stats.negLogLikelihood / summary.rows;
    const gradient = stats.gradient.map((g, i) => (i === 0 ? g : g + spec.l2 * beta[i]!));
    const hessian = stats.hessian.map((row, i) => row.map((h, j) => (i === j && i > 0 ? h + spec.l2 : h)));
    const direction = solveNewtonStep(hessian, gradient);
    accepted = { beta, loss: penalisedLoss, direction };
    stepScale = 1;
    halvings = 0;
    beta = beta.map((b, i) => b + direction[i]!);
    if (Math.max(...direction.map(Math.abs)) <= spec.tolerance) {
      converged = true;
      break;
    }
  }
  if (!converged && accepted) beta = accepted.beta;

  const coefficients: Record<string, number> = {};
  for (const f of spec.features) coefficients[f] = 0;
  design.forEach((f, i) => {
    coefficients[f] = beta[i + 1]!;
  });
  return {
    features: [...spec.features],
    intercept: beta[0]!,
    coefficients,
    standardisation,
    l2: spec.l2,
    iterations,
    converged,
    trainRows: summary.rows,
    positives: summary.positives,
    skippedRows: summary.skipped,
    trainLogLoss: meanLogLoss,
  };
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
  return `(${sqlLogistic(eta)})`;
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

/** Builds, for given coefficients, the one aggregate query of an iteration. */
type IterationQuery = (beta: readonly number[]) => string;

function buildIterationQuery(
  d: Dialect,
  spec: LogisticTrainingSpec,
  design: readonly string[],
  standardisation: Record<string, FeatureScaling>,
  where: string,
  complete: string,
): IterationQuery {
  const k = design.length;
  // Column 0 of the design matrix is the intercept's constant 1.
  const z = (i: number) => (i === 0 ? '1.0' : `aimo_z${i}`);
  const standardised = design.map((f, j) => {
    const s = standardisation[f]!;
    return `(${d.cast(d.quote(f), 'float')} - ${sqlNumber(d, s.mean)}) / ${sqlNumber(d, s.std)} AS ${z(j + 1)}`;
  });
  const zColumns = design.map((_, j) => z(j + 1));
  const aggregates: string[] = [`COUNT(*) AS ${d.quote('n')}`, `SUM(aimo_loss) AS ${d.quote('nll')}`];
  for (let i = 0; i <= k; i++) {
    aggregates.push(`SUM((aimo_p - aimo_y) * ${z(i)}) AS ${d.quote(`g_${i}`)}`);
    for (let j = i; j <= k; j++) aggregates.push(`SUM(aimo_p * (1.0 - aimo_p) * ${z(i)} * ${z(j)}) AS ${d.quote(`h_${i}_${j}`)}`);
  }
  const base = `SELECT ${[`${d.cast(d.quote(spec.label), 'float')} AS aimo_y`, ...standardised].join(', ')}
                FROM ${d.table(spec.table)} WHERE (${where}) AND ${complete}`;
  return (beta) => {
    const eta = [sqlNumber(d, beta[0]!), ...zColumns.map((c, j) => `${sqlNumber(d, beta[j + 1]!)} * ${c}`)].join(' + ');
    const carried = ['aimo_y', ...zColumns].join(', ');
    return `SELECT ${aggregates.join(',\n       ')}
FROM (
  SELECT ${carried}, ${sqlLogistic('aimo_eta')} AS aimo_p, ${sqlSoftplus('aimo_eta')} - aimo_y * aimo_eta AS aimo_loss
  FROM (SELECT ${carried}, ${eta} AS aimo_eta FROM (${base}) aimo_base) aimo_linear
) aimo_scored`;
  };
}

interface IterationStats {
  readonly rows: number;
  readonly negLogLikelihood: number;
  readonly gradient: number[];
  readonly hessian: number[][];
}

async function evaluateAt(wh: Warehouse, iterate: IterationQuery, beta: readonly number[], params: SqlParams): Promise<IterationStats> {
  const [row] = await wh.query(iterate(beta), params);
  const r = row ?? {};
  const size = beta.length;
  const hessian = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (let i = 0; i < size; i++) {
    for (let j = i; j < size; j++) {
      const h = toNumber(r[`h_${i}_${j}`]);
      hessian[i]![j] = h;
      hessian[j]![i] = h;
    }
  }
  return {
    rows: toNumber(r['n']),
    negLogLikelihood: toNumber(r['nll']),
    gradient: beta.map((_, i) => toNumber(r[`g_${i}`])),
    hessian,
  };
}

/** Newton direction −H⁻¹g; a tiny ridge rescues a Hessian made singular by collinear features when λ = 0. */
function solveNewtonStep(hessian: number[][], gradient: number[]): number[] {
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
