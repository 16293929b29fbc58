import type { FeatureDrift } from '../../domain/drift';
import { COLOURS, type ChartSpec } from '../vega';

/** A feature's drift statistic as a multiple of its threshold: 1 is where it counts as drifted, whatever the method. */
export function driftRatio(f: FeatureDrift): number | null {
  const score = f.statistic ?? f.psi ?? null;
  if (score === null || !Number.isFinite(score) || !f.threshold || !(f.threshold > 0)) return null;
  return score / f.threshold;
}

/** Every feature's score against its threshold, worst first. */
export function driftScoresChart(features: readonly FeatureDrift[]): ChartSpec | undefined {
  const rows = features
    .map((f) => ({ f, ratio: driftRatio(f) }))
    .filter((x): x is { f: FeatureDrift; ratio: number } => x.ratio !== null)
    .sort((a, b) => b.ratio - a.ratio)
    .map(({ f, ratio }) => ({
      feature: f.feature,
      ratio,
      label: `${f.method ?? 'psi'} ${(f.statistic ?? f.psi ?? 0).toPrecision(3)} / ${f.threshold}`,
      verdict: f.drifted ? 'drifted' : 'stable',
    }));
  if (rows.length === 0) return undefined;
  return {
    title: 'Drift per feature: score ÷ threshold (1 = drifted)',
    width: 460,
    height: { step: 26 },
    layer: [
      {
        data: { values: rows },
        encoding: { y: { field: 'feature', type: 'nominal', sort: null, title: null, axis: { labelLimit: 220 } } },
        layer: [
          {
            mark: { type: 'bar', cornerRadiusEnd: 2, height: { band: 0.7 } },
            encoding: {
              x: { field: 'ratio', type: 'quantitative', title: 'score ÷ threshold' },
              color: { field: 'verdict', type: 'nominal', scale: { domain: ['stable', 'drifted'], range: [COLOURS.neutral, COLOURS.bad] }, title: null },
            },
          },
          { mark: { type: 'text', align: 'left', dx: 4, fontSize: 10, color: '#3e4c59' }, encoding: { x: { field: 'ratio', type: 'quantitative' }, text: { field: 'label' } } },
        ],
      },
      { data: { values: [{ x: 1 }] }, mark: { type: 'rule', color: COLOURS.target, strokeDash: [4, 3], strokeWidth: 2 }, encoding: { x: { field: 'x', type: 'quantitative' } } },
    ],
  };
}

const edge = (v: number | null) => (v === null ? '' : Number(v.toPrecision(3)).toString());

/** The features to draw histograms of: the drifted ones, else the closest to drifting, at most `limit`. */
export function worstFeatures(features: readonly FeatureDrift[], limit = 3): FeatureDrift[] {
  return [...features]
    .filter((f) => f.bins.length > 0 && driftRatio(f) !== null)
    .sort((a, b) => driftRatio(b)! - driftRatio(a)!)
    .slice(0, limit);
}

/** Reference (training) against current shares per bin or category of one feature. */
export function driftHistogramChart(f: FeatureDrift): ChartSpec | undefined {
  if (f.bins.length === 0) return undefined;
  const values = f.bins.flatMap((b, i) => {
    const bin = 'category' in b ? (b.category ?? '(null)') : b.lower === null ? `< ${edge(b.upper)}` : b.upper === null ? `≥ ${edge(b.lower)}` : `${edge(b.lower)} – ${edge(b.upper)}`;
    return [
      { bin, order: i, window: 'reference (training)', share: b.referenceShare },
      { bin, order: i, window: 'current', share: b.currentShare },
    ];
  });
  return {
    title: `${f.feature}: reference vs current distribution${f.drifted ? ' (drifted)' : ''}`,
    width: { step: 16 },
    height: 200,
    data: { values },
    mark: { type: 'bar', cornerRadiusEnd: 2 },
    encoding: {
      x: { field: 'bin', type: 'ordinal', sort: { field: 'order' }, title: f.kind === 'categorical' ? 'category' : 'bin', axis: { labelAngle: -40, labelLimit: 90 } },
      xOffset: { field: 'window' },
      y: { field: 'share', type: 'quantitative', title: 'share of rows', axis: { format: '.0%' } },
      color: { field: 'window', type: 'nominal', scale: { domain: ['reference (training)', 'current'], range: [COLOURS.muted, COLOURS.neutral] }, title: null, legend: { orient: 'top' } },
    },
  };
}
