import type { CalibrationBin } from '../domain/quality';
import { NonRetryableError } from '../domain/errors';
import type { Dialect } from '../warehouse/dialect';
import type { TableRef } from '../domain/table-ref';
import type { SqlParams } from '../warehouse/params';
import type { Warehouse } from '../warehouse/warehouse';
import { filterCondition, sqlNumber, toNumber, type RowFilter } from './sql';

/** Probabilities are clipped to [ε, 1 − ε] in the log loss, so one confident miss is costly but finite. */
export const LOG_LOSS_EPSILON = 1e-15;

export interface ClassifierEvaluationSpec {
  readonly table: TableRef;
  /** e.g. { column: 'split', value: 'holdout' } */
  readonly filter?: RowFilter;
  /** A 0/1 column */
  readonly label: string;
  /**
   * A SQL expression for the predicted probability over the table's columns,
   * built by aimo (scoreExpression, or dialect.quote of a score column); it is
   * placed into the query as is.
   */
  readonly score: string;
  /** Calibration bins by rank of the score; 10 gives deciles */
  readonly bins?: number;
}


export interface ClassifierMetrics {
  readonly rows: number;
  readonly positives: number;
  /** Observed share of positives */
  readonly prevalence: number;
  /** Mean predicted probability */
  readonly meanScore: number;
  /** Mann–Whitney AUC with ties counted as ½; NaN when only one class is present */
  readonly auc: number;
  readonly logLoss: number;
  readonly brier: number;
}

export interface ClassifierEvaluation extends ClassifierMetrics {
  readonly calibration: CalibrationBin[];
  /** Expected calibration error: the row-weighted mean |meanPredicted − observedRate| over the bins */
  readonly calibrationError: number;
}

/**
 * Holdout metrics of a probabilistic classifier in one warehouse query with
 * one sort: the rows are ranked by score and grouped by distinct score, so
 * AUC is exact (average ranks for ties) and log loss, Brier and the
 * calibration bins come from the same groups. Only one row per calibration bin comes back. Rows with a NULL label
 * or score are left out. Every metric is NaN on an empty holdout.
 */
export async function evaluateClassifier(wh: Warehouse, spec: ClassifierEvaluationSpec): Promise<ClassifierEvaluation> {
  const bins = spec.bins ?? 10;
  const rows = await runEvaluationQuery(wh, { ...spec, bins, threshold: 0.5 });
  const metrics = combine(rows);
  const calibration = rows
    .filter((r) => r.rows > 0)
    .sort((a, b) => a.bin - b.bin)
    .map((r) => ({ bin: r.bin + 1, meanPredicted: r.scoreSum / r.rows, observedRate: r.positives / r.rows, count: r.rows }));
  const calibrationError =
    metrics.rows > 0 ? calibration.reduce((s, b) => s + (b.count / metrics.rows) * Math.abs(b.meanPredicted - b.observedRate), 0) : NaN;
  return { ...metrics, calibration, calibrationError };
}

export interface SegmentEvaluationSpec extends Omit<ClassifierEvaluationSpec, 'bins'> {
  /** The column whose groups must be treated alike, e.g. segment or device */
  readonly segment: string;
  /** A score at or above it counts as a positive prediction, for positive-rate parity */
  readonly threshold?: number;
  /** Smaller groups are reported but left out of the gaps: their AUC is mostly noise */
  readonly minRows?: number;
}

export interface SegmentGroup extends Omit<ClassifierMetrics, 'auc'> {
  /** The segment value as text; NULL segments form the group "(null)" */
  readonly value: string;
  /** Share of rows scored at or above the threshold */
  readonly positiveRate: number;
  /** null when the group has only one class */
  readonly auc: number | null;
  /** Whether the group counts towards the gaps */
  readonly measured: boolean;
}

export interface SegmentEvaluation {
  readonly segment: string;
  readonly threshold: number;
  readonly groups: SegmentGroup[];
  /**
   * Largest differences between measured groups. 0 with a single measured
   * group; NaN when no group is measurable, so a guardrail fails closed.
   */
  readonly maxAucGap: number;
  readonly maxPositiveRateGap: number;
  readonly maxPrevalenceGap: number;
}

export const NULL_SEGMENT = '(null)';

/** The same metrics per value of a segment column, and the largest gaps between groups: the fairness guardrail. */
export async function evaluateBySegment(wh: Warehouse, spec: SegmentEvaluationSpec): Promise<SegmentEvaluation> {
  const threshold = spec.threshold ?? 0.5;
  const minRows = spec.minRows ?? 30;
  if (!(threshold >= 0 && threshold <= 1)) throw new NonRetryableError('InvalidArgument', `threshold must be within [0, 1], got ${threshold}`);
  const rows = await runEvaluationQuery(wh, { ...spec, bins: 1, threshold });
  const bySegment = new Map<string, EvaluationRow[]>();
  for (const r of rows) bySegment.set(r.segment ?? NULL_SEGMENT, [...(bySegment.get(r.segment ?? NULL_SEGMENT) ?? []), r]);
  const groups: SegmentGroup[] = [...bySegment.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([value, groupRows]) => {
      const m = combine(groupRows);
      const predictedPositive = groupRows.reduce((s, r) => s + r.predictedPositive, 0);
      const auc = Number.isNaN(m.auc) ? null : m.auc;
      return { ...m, value, auc, positiveRate: predictedPositive / m.rows, measured: auc !== null && m.rows >= minRows };
    });
  const measured = groups.filter((g) => g.measured);
  const gap = (pick: (g: SegmentGroup) => number) => {
    if (measured.length === 0) return NaN;
    const values = measured.map(pick);
    return Math.max(...values) - Math.min(...values);
  };
  return {
    segment: spec.segment,
    threshold,
    groups,
    maxAucGap: gap((g) => g.auc!),
    maxPositiveRateGap: gap((g) => g.positiveRate),
    maxPrevalenceGap: gap((g) => g.prevalence),
  };
}

interface EvaluationRow {
  readonly segment: string | null;
  readonly bin: number;
  readonly rows: number;
  readonly positives: number;
  readonly scoreSum: number;
  /** Σ over positives of their rank among the rows (1-based; tied scores share their average rank) */
  readonly positiveRankSum: number;
  readonly logLossSum: number;
  readonly brierSum: number;
  readonly predictedPositive: number;
}

interface EvaluationQuerySpec extends Omit<ClassifierEvaluationSpec, 'bins'> {
  readonly segment?: string;
  readonly bins: number;
  readonly threshold: number;
}

async function runEvaluationQuery(wh: Warehouse, spec: EvaluationQuerySpec): Promise<EvaluationRow[]> {
  if (!(Number.isInteger(spec.bins) && spec.bins >= 1 && spec.bins <= 1000)) {
    throw new NonRetryableError('InvalidArgument', `bins must be an integer from 1 to 1000, got ${spec.bins}`);
  }
  const { sql, params } = evaluationSql(wh.dialect, spec);
  const result = await wh.query(sql, params);
  const badLabels = result.reduce((s, r) => s + toNumber(r['bad_labels']), 0);
  if (badLabels > 0) {
    throw new NonRetryableError('InvalidLabel', `label ${spec.label} has ${badLabels} values other than 0 and 1 in the evaluation rows: the label must be 0/1`);
  }
  return result.map((r) => ({
    segment: r['segment'] === null || r['segment'] === undefined ? null : String(r['segment']),
    bin: toNumber(r['bin']),
    rows: toNumber(r['rows']),
    positives: toNumber(r['positives']),
    scoreSum: toNumber(r['score_sum']),
    positiveRankSum: toNumber(r['positive_rank_sum']),
    logLossSum: toNumber(r['log_loss_sum']),
    brierSum: toNumber(r['brier_sum']),
    predictedPositive: toNumber(r['predicted_positive']),
  }));
}

/**
 * One sort of the scored rows: RANK() (which streams over the sorted rows,
 * unlike running sums, which build a segment tree) gives each row the number
 * of rows strictly below its score; rows are then grouped by
 * (segment, score), so a group of tied scores has its rows below, its
 * average rank (rows below + (n + 1)/2) and its positives, which gives the
 * Mann–Whitney rank sum of the positives exactly; the rows below also give
 * the calibration bin (tied scores share a bin, so bins are deterministic).
 * Every count and rank sum is an integer or a half-integer, exact in floating
 * point below 2^53, so the AUC equals the pair count's to the last bit.
 * Rows without a score rank last and their group is dropped after ranking:
 * a filter on the score before it would be pushed down to the table scan
 * and compute the score expression twice per row.
 */
function evaluationSql(d: Dialect, spec: EvaluationQuerySpec): { sql: string; params: SqlParams } {
  const where = filterCondition(d, spec.filter);
  const q = (alias: string) => d.quote(alias);
  const seg = spec.segment !== undefined;
  const segSelect = seg ? `${d.cast(d.quote(spec.segment!), 'string')} AS aimo_seg, ` : '';
  const segCol = seg ? 'aimo_seg, ' : '';
  const partition = seg ? 'PARTITION BY aimo_seg ' : '';
  // Counts become DOUBLE at once, so every later sum stays in floating point (exact for counts below 2^53).
  const f = (expr: string) => d.cast(expr, 'float');
  const eps = sqlNumber(d, LOG_LOSS_EPSILON);
  const oneMinusEps = sqlNumber(d, 1 - LOG_LOSS_EPSILON);
  const sql = `
WITH aimo_scored AS (
  SELECT ${segSelect}${d.cast(`(${spec.score})`, 'float')} AS aimo_s, ${d.cast(d.quote(spec.label), 'float')} AS aimo_y
  FROM ${d.table(spec.table)}
  WHERE (${where.sql}) AND ${d.quote(spec.label)} IS NOT NULL
),
aimo_ranked AS (
  SELECT ${segCol}aimo_s, aimo_y, RANK() OVER (${partition}ORDER BY aimo_s ASC NULLS LAST) - 1 AS aimo_rows_below
  FROM aimo_scored
),
aimo_by_score AS (
  SELECT ${segCol}aimo_s,
         ${f('MIN(aimo_rows_below)')} AS aimo_rows_below,
         ${f('COUNT(*)')} AS aimo_n,
         ${f('SUM(CASE WHEN aimo_y = 1 THEN 1 ELSE 0 END)')} AS aimo_pos,
         ${f('SUM(CASE WHEN aimo_y = 0 OR aimo_y = 1 THEN 0 ELSE 1 END)')} AS aimo_bad,
         CASE WHEN aimo_s < ${eps} THEN ${eps} WHEN aimo_s > ${oneMinusEps} THEN ${oneMinusEps} ELSE aimo_s END AS aimo_clipped
  FROM aimo_ranked
  GROUP BY ${segCol}aimo_s
  HAVING aimo_s IS NOT NULL
),
aimo_binned AS (
  SELECT aimo_by_score.*, aimo_n - aimo_pos AS aimo_neg,
         FLOOR(aimo_rows_below * ${spec.bins} / SUM(aimo_n) OVER (${partition.trim()})) AS aimo_bin
  FROM aimo_by_score
)
SELECT ${seg ? `aimo_seg AS ${q('segment')}, ` : ''}aimo_bin AS ${q('bin')},
       SUM(aimo_n) AS ${q('rows')},
       SUM(aimo_pos) AS ${q('positives')},
       SUM(aimo_bad) AS ${q('bad_labels')},
       SUM(aimo_s * aimo_n) AS ${q('score_sum')},
       SUM(aimo_pos * (aimo_rows_below + (aimo_n + 1.0) / 2.0)) AS ${q('positive_rank_sum')},
       SUM(-aimo_pos * LN(aimo_clipped) - aimo_neg * LN(1.0 - aimo_clipped)) AS ${q('log_loss_sum')},
       SUM(aimo_pos * (1.0 - aimo_s) * (1.0 - aimo_s) + aimo_neg * aimo_s * aimo_s) AS ${q('brier_sum')},
       SUM(CASE WHEN aimo_s >= @aimo_threshold THEN aimo_n ELSE 0 END) AS ${q('predicted_positive')}
FROM aimo_binned
GROUP BY ${segCol}aimo_bin`;
  return { sql, params: { ...where.params, aimo_threshold: spec.threshold } };
}

/** Adds up groups (bins) into one set of metrics. */
function combine(rows: readonly EvaluationRow[]): ClassifierMetrics {
  const sum = (pick: (r: EvaluationRow) => number) => rows.reduce((s, r) => s + pick(r), 0);
  const n = sum((r) => r.rows);
  const positives = sum((r) => r.positives);
  const negatives = n - positives;
  const perRow = (total: number) => (n > 0 ? total / n : NaN);
  return {
    rows: n,
    positives,
    prevalence: perRow(positives),
    meanScore: perRow(sum((r) => r.scoreSum)),
    // Mann–Whitney: the positives' rank sum less its minimum P(P+1)/2 counts the (positive, negative) pairs ranked right, ties as ½.
    auc: positives > 0 && negatives > 0 ? (sum((r) => r.positiveRankSum) - (positives * (positives + 1)) / 2) / (positives * negatives) : NaN,
    logLoss: perRow(sum((r) => r.logLossSum)),
    brier: perRow(sum((r) => r.brierSum)),
  };
}
