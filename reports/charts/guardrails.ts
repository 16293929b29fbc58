import type { ExperimentReadout } from '../../domain/propensity/results';
import { COLOURS, type ChartSpec } from '../vega';

/**
 * Each guardrail metric's treatment − control effect with its interval and
 * the tolerated limit; one row per metric, each on its own scale (a rate and
 * a revenue per user do not share an axis).
 */
export function guardrailMetricsChart(e: ExperimentReadout): ChartSpec | undefined {
  const rows = (e.guardrails ?? [])
    .filter((g) => g.measurable && [g.absolute, g.ciLow, g.ciHigh].every((v) => typeof v === 'number' && Number.isFinite(v)))
    .map((g) => ({
      metric: `${g.metric}: ${g.better} is better`,
      estimate: g.absolute,
      low: g.ciLow,
      high: g.ciHigh,
      result: g.failed ? 'fails its tolerance' : 'within tolerance',
      ...(typeof g.threshold === 'number' && Number.isFinite(g.threshold) ? { threshold: g.threshold } : {}),
    }));
  if (rows.length === 0) return undefined;
  const colour = { field: 'result', type: 'nominal', scale: { domain: ['within tolerance', 'fails its tolerance'], range: [COLOURS.good, COLOURS.bad] }, title: null } as const;
  return {
    title: 'Guardrail metrics: effect, interval and tolerated limit',
    data: { values: rows },
    facet: { row: { field: 'metric', type: 'nominal', title: null, header: { labelOrient: 'top', labelAngle: 0, labelAlign: 'left', labelAnchor: 'start', labelFontSize: 12, labelPadding: 6, labelLimit: 480 } } },
    spec: {
      width: 480,
      height: 40,
      layer: [
        { mark: { type: 'rule', strokeWidth: 3 }, encoding: { x: { field: 'low', type: 'quantitative', title: 'treatment − control' }, x2: { field: 'high' }, color: colour } },
        { mark: { type: 'point', filled: true, size: 90 }, encoding: { x: { field: 'estimate', type: 'quantitative' }, color: colour } },
        { mark: { type: 'tick', thickness: 2, size: 30, color: COLOURS.target }, encoding: { x: { field: 'threshold', type: 'quantitative' } } },
        { mark: { type: 'rule', strokeDash: [4, 3], color: '#52606d' }, encoding: { x: { datum: 0 } } },
      ],
    },
    resolve: { scale: { x: 'independent' } },
  };
}
