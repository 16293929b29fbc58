import type { RolloutResult } from '../../domain/rollout/result';
import { goalOutcome } from '../../domain/rollout/readout';
import { COLOURS, type ChartSpec } from '../vega';

/** The KPI's baseline measured from data, the target the plan set, and what the experiment observed. */
export function kpiChart(r: RolloutResult): ChartSpec | undefined {
  const baseline = r.kpi?.baseline;
  if (!r.kpi || typeof baseline !== 'number' || !Number.isFinite(baseline)) return undefined;
  const goal = goalOutcome(r);
  const values: Array<{ label: string; value: number; colour: string }> = [{ label: 'baseline', value: baseline, colour: COLOURS.muted }];
  if (typeof r.kpi.target === 'number' && Number.isFinite(r.kpi.target)) values.push({ label: 'target', value: r.kpi.target, colour: COLOURS.target });
  if (goal.observedChange !== null) {
    values.push({ label: 'observed in the experiment', value: baseline * (1 + goal.observedChange), colour: goal.verdict === 'met' ? COLOURS.good : COLOURS.bad });
  }
  return {
    title: `KPI: ${r.kpi.metric} baseline, target and outcome`,
    width: 520,
    height: { step: 34 },
    data: { values },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, title: null, axis: { labelLimit: 260 } },
      x: { field: 'value', type: 'quantitative', title: r.kpi.metric, scale: { zero: true } },
    },
    layer: [
      { mark: { type: 'bar', cornerRadiusEnd: 3, height: { band: 0.7 } }, encoding: { color: { field: 'colour', type: 'nominal', scale: null } } },
      { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { text: { field: 'value', type: 'quantitative', format: '.4~g' } } },
    ],
  };
}
