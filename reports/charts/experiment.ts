import type { ExperimentReadout } from '../../domain/propensity/results';
import { COLOURS, type ChartSpec } from '../vega';

interface IntervalRow {
  readonly label: string;
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly primary: boolean;
}

const finite = (...v: Array<number | null | undefined>): boolean => v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** The conversion effect as each analysis measured it, the one the decision used marked, against zero and the MDE. */
export function effectChart(e: ExperimentReadout): ChartSpec | undefined {
  const rows: IntervalRow[] = [];
  const primary = e.decision?.primary;
  if (finite(e.effect.absolute, e.effect.ciLow, e.effect.ciHigh)) {
    rows.push({ label: 'unadjusted (Newcombe)', estimate: e.effect.absolute, low: e.effect.ciLow, high: e.effect.ciHigh, primary: !primary || primary.method === 'newcombe' });
  }
  const cuped = e.adjusted?.conversion;
  if (cuped && finite(cuped.absolute, cuped.ciLow, cuped.ciHigh)) {
    rows.push({ label: 'CUPED-adjusted', estimate: cuped.absolute, low: cuped.ciLow, high: cuped.ciHigh, primary: primary?.method === 'cuped' });
  }
  if (primary && primary.method !== 'newcombe' && primary.method !== 'cuped' && finite(primary.absolute, primary.ciLow, primary.ciHigh)) {
    rows.push({ label: primary.method === 'sequential' ? 'sequential (final look)' : 'geo randomisation', estimate: primary.absolute, low: primary.ciLow, high: primary.ciHigh, primary: true });
  }
  if (rows.length === 0) return undefined;
  const references: Array<{ x: number; what: string }> = [{ x: 0, what: 'no effect' }];
  if (e.design && finite(e.design.mdeAbsolute)) references.push({ x: e.design.mdeAbsolute, what: 'minimum detectable effect' });
  const confidence = primary ? Math.round(primary.confidence * 100) : 95;
  return {
    title: `Experiment effect on conversion, treatment − control (${confidence} % interval)`,
    width: 520,
    height: { step: 36 },
    layer: [
      {
        data: { values: rows },
        encoding: { y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 260 } } },
        layer: [
          { mark: { type: 'rule', strokeWidth: 3 }, encoding: { x: { field: 'low', type: 'quantitative', title: 'absolute difference in conversion rate', axis: { format: '.2%' } }, x2: { field: 'high' }, color: { field: 'primary', type: 'nominal', scale: { domain: [true, false], range: [COLOURS.neutral, COLOURS.muted] }, legend: null } } },
          { mark: { type: 'point', filled: true, size: 90 }, encoding: { x: { field: 'estimate', type: 'quantitative' }, color: { field: 'primary', type: 'nominal', legend: null } } },
        ],
      },
      {
        data: { values: references },
        mark: { type: 'rule', strokeDash: [4, 3] },
        encoding: { x: { field: 'x', type: 'quantitative' }, color: { field: 'what', type: 'nominal', scale: { domain: ['no effect', 'minimum detectable effect'], range: ['#52606d', COLOURS.target] }, title: null, legend: { orient: 'bottom' } } },
      },
    ],
    resolve: { scale: { color: 'independent' } },
  };
}

/** The estimate and its (repeated-significance) interval at each sequential look, over the days of the test. */
export function looksChart(e: ExperimentReadout): ChartSpec | undefined {
  const looks = (e.sequential?.looks ?? []).filter((l) => finite(l.estimate, l.ciLow, l.ciHigh));
  if (looks.length === 0) return undefined;
  const values = looks.map((l) => ({ look: `look ${l.look} (day ${l.days})`, days: l.days, estimate: l.estimate, low: l.ciLow, high: l.ciHigh, stop: l.stop ?? 'continue' }));
  // The first looks' repeated intervals are very wide (O'Brien–Fleming spends little alpha early): the axis follows
  // the looks within 3× the final width, and wider intervals run off it, so the later ones stay readable.
  const last = looks[looks.length - 1]!;
  const finalWidth = last.ciHigh! - last.ciLow!;
  const readable = looks.filter((l) => l.ciHigh! - l.ciLow! <= 3 * finalWidth);
  const domain = [Math.min(0, ...readable.map((l) => l.ciLow!)), Math.max(0, ...readable.map((l) => l.ciHigh!))];
  return {
    title: 'Effect and interval at each sequential look',
    width: 520,
    height: 260,
    layer: [
      {
        data: { values },
        encoding: { x: { field: 'days', type: 'quantitative', title: 'day of the experiment', scale: { zero: false, padding: 20 } } },
        layer: [
          { mark: { type: 'area', opacity: 0.15, color: COLOURS.neutral, clip: true }, encoding: { y: { field: 'low', type: 'quantitative', title: 'difference in conversion rate', axis: { format: '.2%' }, scale: { domain } }, y2: { field: 'high' } } },
          { mark: { type: 'rule', strokeWidth: 2, color: COLOURS.neutral, clip: true }, encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } } },
          { mark: { type: 'line', point: { filled: true, size: 70 }, color: COLOURS.neutral, clip: true }, encoding: { y: { field: 'estimate', type: 'quantitative' }, tooltip: [{ field: 'look' }, { field: 'stop' }] } },
        ],
      },
      { data: { values: [{ y: 0 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#52606d' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
}
