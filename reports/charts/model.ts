import type { ModelMetrics } from '../../domain/propensity/results';
import { COLOURS, type ChartSpec } from '../vega';

/** One decile of the holdout, best-scored first: what targeting only that far down the ranking would reach. */
export interface LiftRow {
  readonly decile: number;
  readonly users: number;
  readonly rate: number;
  /** The decile's conversion rate over the holdout's */
  readonly lift: number;
  /** Share of all converters found in this decile and the ones above it */
  readonly cumulativeGain: number;
  /** Share of the holdout targeted down to this decile */
  readonly cumulativeShare: number;
}

/**
 * Lift and gain from the calibration bins: the evaluation query bins the
 * holdout by rank of the score (deciles by default), so each bin is a
 * decile of the ranking with its size and observed rate.
 */
export function liftTable(metrics: Pick<ModelMetrics, 'calibration'>): LiftRow[] {
  const bins = [...metrics.calibration].filter((b) => b.count > 0).sort((a, b) => b.bin - a.bin);
  const users = bins.reduce((s, b) => s + b.count, 0);
  const positives = bins.reduce((s, b) => s + b.count * b.observedRate, 0);
  if (users === 0 || positives === 0) return [];
  const prevalence = positives / users;
  let seenUsers = 0;
  let seenPositives = 0;
  return bins.map((b, i) => {
    seenUsers += b.count;
    seenPositives += b.count * b.observedRate;
    return { decile: i + 1, users: b.count, rate: b.observedRate, lift: b.observedRate / prevalence, cumulativeGain: seenPositives / positives, cumulativeShare: seenUsers / users };
  });
}

/** Mean predicted probability against the observed rate per bin, with the diagonal of a perfectly calibrated model. */
export function calibrationChart(metrics: ModelMetrics): ChartSpec | undefined {
  const bins = metrics.calibration.filter((b) => b.count > 0 && Number.isFinite(b.meanPredicted) && Number.isFinite(b.observedRate));
  if (bins.length < 2) return undefined;
  const top = Math.max(...bins.flatMap((b) => [b.meanPredicted, b.observedRate]));
  return {
    title: 'Calibration: predicted vs observed',
    width: 235,
    height: 220,
    layer: [
      {
        data: { values: [{ p: 0 }, { p: top }] },
        mark: { type: 'line', strokeDash: [4, 4], color: COLOURS.muted },
        encoding: { x: { field: 'p', type: 'quantitative' }, y: { field: 'p', type: 'quantitative' } },
      },
      {
        data: { values: bins },
        mark: { type: 'line', point: { filled: true, size: 60 }, color: COLOURS.neutral },
        encoding: {
          x: { field: 'meanPredicted', type: 'quantitative', title: 'mean predicted probability', axis: { format: '.1%' } },
          y: { field: 'observedRate', type: 'quantitative', title: 'observed conversion rate', axis: { format: '.1%' } },
          tooltip: [{ field: 'bin' }, { field: 'count', title: 'users' }],
        },
      },
    ],
  };
}

/** Cumulative gain of targeting by score against random targeting. */
export function gainChart(rows: readonly LiftRow[]): ChartSpec | undefined {
  if (rows.length < 2) return undefined;
  const curve = [{ cumulativeShare: 0, cumulativeGain: 0 }, ...rows.map((r) => ({ cumulativeShare: r.cumulativeShare, cumulativeGain: r.cumulativeGain }))];
  return {
    title: 'Cumulative gain',
    width: 235,
    height: 220,
    layer: [
      {
        data: { values: [{ s: 0 }, { s: 1 }] },
        mark: { type: 'line', strokeDash: [4, 4], color: COLOURS.muted },
        encoding: { x: { field: 's', type: 'quantitative' }, y: { field: 's', type: 'quantitative' } },
      },
      {
        data: { values: curve },
        mark: { type: 'line', point: { filled: true, size: 50 }, color: COLOURS.good },
        encoding: {
          x: { field: 'cumulativeShare', type: 'quantitative', title: 'users targeted, best scores first', axis: { format: '.0%' } },
          y: { field: 'cumulativeGain', type: 'quantitative', title: 'share of converters reached', axis: { format: '.0%' } },
        },
      },
    ],
  };
}

/** Conversion rate of each score decile over the holdout's, 1 being no better than random. */
export function liftChart(rows: readonly LiftRow[]): ChartSpec | undefined {
  if (rows.length < 2) return undefined;
  return {
    title: 'Lift by score decile',
    width: 235,
    height: 220,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'bar', color: COLOURS.neutral, cornerRadiusEnd: 2 },
        encoding: {
          x: { field: 'decile', type: 'ordinal', title: 'score decile (1 = highest)' },
          y: { field: 'lift', type: 'quantitative', title: 'lift (decile rate ÷ overall)' },
        },
      },
      { data: { values: [{ y: 1 }] }, mark: { type: 'rule', color: COLOURS.target, strokeDash: [4, 3] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
}
