import type { FeatureDrift } from '../domain/drift';
import { driftHistogramChart, driftRatio, driftScoresChart, worstFeatures } from './charts/drift';
import { el, figure, join, page, section, table } from './html';
import { num } from './rollout-page';

/** A drift check as its report shows it: the verdicts and every compared feature with its bins. */
export interface DriftPageData {
  readonly workflowId: string;
  readonly useCase: string;
  readonly champion: string;
  readonly window?: { readonly from: string; readonly to: string };
  readonly datasetDrift: boolean;
  readonly predictionDrift: boolean;
  readonly driftedShare: number;
  readonly referenceRows: number;
  readonly currentRows: number;
  /** Input features and the champion's prediction, each with its reference and current bins */
  readonly features: readonly FeatureDrift[];
}

/** The first line of a drift check's report. */
export function driftHeadline(d: DriftPageData): string {
  const inputs = d.features.filter((f) => f.kind !== 'prediction');
  const drifted = inputs.filter((f) => f.drifted).length;
  const verdict = d.datasetDrift || d.predictionDrift ? 'Drift detected' : 'No drift';
  return `${verdict}: ${drifted} of ${inputs.length} features drifted (${(d.driftedShare * 100).toFixed(0)} %), dataset ${d.datasetDrift ? 'drifted' : 'stable'}, predictions ${d.predictionDrift ? 'drifted' : 'stable'}; champion ${d.champion}`;
}

export async function renderDriftHtml(d: DriftPageData, formats?: { markdown: string; json: string }): Promise<string> {
  const histograms = [];
  for (const f of worstFeatures(d.features)) histograms.push(await figure(`histogram-${f.feature}`, driftHistogramChart(f)));
  const body = join([
    el('h1', {}, `Drift check of ${d.useCase}`),
    el(
      'dl',
      { class: 'meta' },
      el('dt', {}, 'Champion'),
      el('dd', {}, el('code', {}, d.champion)),
      d.window ? el('dt', {}, 'Window') : null,
      d.window ? el('dd', {}, `${d.window.from} – ${d.window.to} (exclusive) against the training reference`) : null,
      el('dt', {}, 'Rows'),
      el('dd', {}, `${d.referenceRows} reference, ${d.currentRows} current`),
      el('dt', {}, 'Workflow'),
      el('dd', {}, el('code', {}, d.workflowId)),
      formats ? el('dt', {}, 'Also as') : null,
      formats ? el('dd', {}, el('a', { href: formats.markdown }, 'Markdown'), ' · ', el('a', { href: formats.json }, 'JSON')) : null,
    ),
    section('Drift per feature', el('div', { class: 'charts' }, await figure('drift-scores', driftScoresChart(d.features)))),
    histograms.some(Boolean) ? section('Reference vs current, the most drifted features', el('div', { class: 'charts' }, ...histograms)) : null,
    section(
      'Features',
      table(
        ['feature', 'kind', 'method', 'score', 'threshold', 'score ÷ threshold', 'verdict', 'reason'],
        d.features.map((f) => [f.feature, f.kind, f.method ?? 'psi', num(f.statistic ?? f.psi), num(f.threshold), num(driftRatio(f), 3), el('span', { class: f.drifted ? 'fail' : 'pass' }, f.drifted ? 'drifted' : 'stable'), f.reason]),
        { 'data-table': 'drift-features' },
      ),
    ),
  ]);
  return page({ title: `aimo report: drift check of ${d.useCase} (${d.workflowId})`, headline: driftHeadline(d), verdict: d.datasetDrift || d.predictionDrift ? 'not-met' : 'met', body, footer: `aimo drift report for workflow ${d.workflowId}` });
}

/** The same report as Markdown. */
export function renderDriftMarkdown(d: DriftPageData, md: (text: unknown) => string, code: (text: unknown) => string): string {
  const lines = [`# Drift check of ${md(d.useCase)}`, '', `**${md(driftHeadline(d))}**`, ''];
  lines.push(`- Champion: ${code(d.champion)}`, `- Workflow: ${code(d.workflowId)}`);
  if (d.window) lines.push(`- Window: ${d.window.from} – ${d.window.to} (exclusive)`);
  lines.push(`- Rows: ${d.referenceRows} reference, ${d.currentRows} current`, '', '| feature | kind | method | score | threshold | verdict | reason |', '|---|---|---|---|---|---|---|');
  for (const f of d.features) lines.push(`| ${md(f.feature)} | ${f.kind} | ${f.method ?? 'psi'} | ${num(f.statistic ?? f.psi)} | ${num(f.threshold)} | ${f.drifted ? '**drifted**' : 'stable'} | ${md(f.reason)} |`);
  return lines.join('\n') + '\n';
}
