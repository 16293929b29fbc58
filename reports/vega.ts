import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A chart of a report: a Vega-Lite spec that always has a title, so a reader (and a test) knows what it shows. */
export type ChartSpec = TopLevelSpec & { readonly title: string };

/** One look for every chart of a report. */
export const CHART_CONFIG = {
  font: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif',
  title: { fontSize: 14, fontWeight: 600, anchor: 'start', offset: 10, color: '#1f2933' },
  axis: { labelColor: '#3e4c59', titleColor: '#3e4c59', gridColor: '#e4e7eb', domainColor: '#9aa5b1', labelFontSize: 11, titleFontSize: 11, labelLimit: 260 },
  legend: { labelColor: '#3e4c59', titleColor: '#3e4c59', labelFontSize: 11, titleFontSize: 11, labelLimit: 320 },
  header: { labelLimit: 480 },
  view: { stroke: null },
  range: { category: ['#2f6fdf', '#e8833a', '#3aa76d', '#c0392b', '#8e5cc4', '#16a2b8', '#d4a72c', '#7f8c8d'] },
} as const;

/** Colours with a meaning, the same on every chart. */
export const COLOURS = { good: '#3aa76d', bad: '#c0392b', neutral: '#2f6fdf', muted: '#9aa5b1', target: '#e8833a' } as const;

/**
 * The chart as a self-contained SVG string, rendered in Node: Vega-Lite
 * compiles the spec, Vega lays it out headless. Pure: the same spec gives
 * the same SVG.
 */
export async function chartSvg(spec: ChartSpec): Promise<string> {
  const { spec: compiled } = compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec);
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
