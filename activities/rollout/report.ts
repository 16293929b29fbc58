import type { RolloutResult } from '../../domain/rollout/result';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContentReadout } from '../../domain/content/results';
import type { ExperimentReadout } from '../../domain/propensity/results';
import type { ActivityDependencies } from '../dependencies';
import { formatTable } from '../../domain/table-ref';
import { rolloutReadout } from '../../domain/rollout/readout';


function fileSafe(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Write-then-rename, so a crash mid-write never leaves half a report. */
function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

const num = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(digits)).toString();

export function renderRolloutMarkdown(r: RolloutResult): string {
  const lines: string[] = [];
  lines.push(`# Rollout ${r.useCase}`, '');
  // The answer first: whether the goal was met, and what was decided.
  const readout = rolloutReadout(r);
  lines.push(`**${readout.headline}**`, '', `- ${readout.goal.detail}`);
  lines.push(`- Workflow: \`${r.workflowId}\``, `- Status: **${r.status}**`);
  lines.push(`- Goal: ${r.plan.kpi.metric} ${r.plan.kpi.targetChange > 0 ? '+' : ''}${(r.plan.kpi.targetChange * 100).toFixed(1)} % in ${r.plan.kpi.channel} / ${r.plan.kpi.market} by ${r.plan.kpi.deadline}`);
  if (r.failure) lines.push('', '## Why it stopped', '', '```', r.failure, '```');
  lines.push('', '## Steps', '', '| step | outcome | summary |', '|---|---|---|');
  for (const s of r.steps) lines.push(`| ${s.step} | ${s.status} | ${s.summary.replace(/\|/g, '/')} |`);
  if (r.kpi) {
    lines.push('', '## KPI', '', `Baseline ${r.kpi.metric} over ${r.kpi.window.from} – ${r.kpi.window.to}: **${num(r.kpi.baseline)}**; target **${num(r.kpi.target)}**.`);
  }
  if (r.inventory) {
    lines.push('', '## Data inventory', '', '| source | table | rows | duplicate rate | staleness (h) | problems |', '|---|---|---|---|---|---|');
    for (const s of r.inventory.sources) {
      lines.push(`| ${s.source} | ${formatTable(s.table)} | ${s.rows} | ${num(s.duplicateRate, 3)} | ${num(s.stalenessHours, 3)} | ${[...s.blocking, ...s.warnings].join('; ') || '—'} |`);
    }
    lines.push('', `Consent coverage ${num(r.inventory.consentCoverage, 3)}, identity match rate ${num(r.inventory.identityMatchRate, 3)}.`);
  }
  if (r.dataPath) {
    lines.push('', '## Data path', '', '| model | rows | seconds | expectations |', '|---|---|---|---|');
    for (const m of r.dataPath.models) {
      const failed = m.expectations.filter((e) => !e.success).map((e) => `${e.name} (${e.unexpectedCount})`);
      lines.push(`| ${m.model} | ${m.rows} | ${num(m.seconds, 3)} | ${failed.length ? `failed: ${failed.join(', ')}` : `${m.expectations.length} passed`} |`);
    }
  }
  if (r.model) {
    const m = r.model.metrics;
    lines.push('', '## Baseline model', '', `Version \`${r.model.versionId}\`: AUC ${num(m.auc)}, log loss ${num(m.logLoss)}, Brier ${num(m.brier)} on ${m.holdoutRows} holdout rows.`);
  }
  if (r.guardrails) {
    lines.push('', '## Guardrails', '', '| check | result | detail |', '|---|---|---|');
    for (const c of r.guardrails.checks) lines.push(`| ${c.name} | ${c.passed ? 'pass' : 'FAIL'} | ${c.detail} |`);
  }
  if (r.experiment) {
    const e = r.experiment;
    lines.push('', '## Experiment', '', e.summary, '');
    lines.push(`- Users: ${e.arms.control.users} control, ${e.arms.treatment.users} treatment; SRM p = ${num(e.srm.pValue, 3)}${e.srm.flagged ? ' (**flagged**)' : ''}`);
    lines.push(`- Conversion: control ${num(e.arms.control.conversionRate)}, treatment ${num(e.arms.treatment.conversionRate)}; uplift ${num(e.effect.absolute)} (95 % CI ${num(e.effect.ciLow)} to ${num(e.effect.ciHigh)})`);
    lines.push(`- Cost per incremental conversion: ${num(e.costPerIncrementalConversion)}`, `- Decision: **${e.ship ? 'ship' : 'no ship'}**`);
    lines.push(...renderExperimentDetails(e));
  }
  if (r.content) lines.push(...renderContentMarkdown(r.content));
  if (r.automation) {
    lines.push('', '## Automation', '');
    for (const s of r.automation.schedules) lines.push(`- schedule \`${s.scheduleId}\` (${s.cron}): ${s.outcome}`);
    lines.push(`- serving view: \`${formatTable(r.automation.servingView)}\` → \`${r.automation.champion}\``);
  }
  if (r.scale?.length) {
    lines.push('', '## Scale', '', '| target | workflow | status |', '|---|---|---|');
    for (const c of r.scale) lines.push(`| ${c.channel} / ${c.market} | \`${c.workflowId}\` | ${c.status} |`);
  }
  return lines.join('\n') + '\n';
}

/** Design, primary effect, CUPED, sequential looks, geo pairs and guardrail metrics of a readout from this release on. */
function renderExperimentDetails(e: ExperimentReadout): string[] {
  const lines: string[] = [];
  const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(1)} %`);
  if (e.design) {
    const d = e.design;
    lines.push('', '### Design', '', `${d.design === 'geo' ? 'Geo' : 'A/B'} test, ${d.analysis} analysis at alpha ${d.alpha}: ${d.summary}.`);
    lines.push('', '| outcome days | baseline conversion | power at the MDE |', '|---|---|---|');
    for (const b of d.byDays) lines.push(`| ${b.days} | ${pct(b.baselineRate)} | ${pct(b.power)} |`);
    if (d.expectedVarianceReduction !== null) lines.push('', `CUPED on the pre-period removed ${pct(d.expectedVarianceReduction)} of the variance one window earlier.`);
  }
  if (e.decision) {
    const p = e.decision.primary;
    lines.push('', '### Decision', '', `Primary effect (${p.method}): ${num(p.absolute)} (${Math.round(p.confidence * 100)} % CI ${num(p.ciLow)} to ${num(p.ciHigh)}).`, `Rule: ${e.decision.rule}.`);
    if (e.decision.reasons.length) lines.push('', ...e.decision.reasons.map((r) => `- ${r.replace(/\|/g, '/')}`));
  }
  if (e.adjusted) {
    const a = e.adjusted;
    lines.push('', `CUPED: conversion interval ${pct(1 - Math.sqrt(1 - a.conversion.varianceReduction))} narrower (variance −${pct(a.conversion.varianceReduction)}), revenue per user variance −${pct(a.revenuePerUser.varianceReduction)}.`);
  }
  if (e.sequential) {
    lines.push('', '### Sequential looks', '', '| look | days | boundary | z | interval | stop |', '|---|---|---|---|---|---|');
    for (const l of e.sequential.looks) lines.push(`| ${l.look} | ${l.days} | ${num(l.boundary, 3)} | ${num(l.zScore, 3)} | ${num(l.ciLow)} to ${num(l.ciHigh)} | ${l.stop ?? '—'} |`);
  }
  if (e.geo) {
    const g = e.geo;
    lines.push('', '### Geo', '', `${g.method}: ${num(g.effect.estimate)} (CI ${num(g.effect.ciLow)} to ${num(g.effect.ciHigh)}, randomisation p = ${num(g.effect.pValue, 3)} over ${g.effect.flips} sign patterns); ${g.regions} regions, pre-period ${g.preWindow.from} – ${g.preWindow.to}.`);
    lines.push('', '| treated | control | difference | pre-period difference |', '|---|---|---|---|');
    for (const p of g.pairs) lines.push(`| ${p.treatment} | ${p.control} | ${num(p.difference)} | ${num(p.preDifference)} |`);
  }
  if (e.guardrails?.length) {
    lines.push('', '### Guardrail metrics', '', '| metric | measure | effect | interval | tolerated | result |', '|---|---|---|---|---|---|');
    for (const g of e.guardrails) {
      lines.push(`| ${g.metric} | ${g.measure} | ${num(g.absolute)} | ${num(g.ciLow)} to ${num(g.ciHigh)} | ${num(g.threshold)} | ${g.measurable ? (g.failed ? 'FAIL' : 'pass') : `not measurable: ${g.detail}`} |`);
    }
  }
  return lines;
}

function renderContentMarkdown(c: ContentReadout): string[] {
  const lines = ['', '## Creatives', ''];
  if (c.baseline.baseline !== null) lines.push(`Incumbent ${c.baseline.metric}: **${num(c.baseline.baseline)}** over ${c.baseline.impressions} impressions; target ${num(c.baseline.target)}.`, '');
  if (c.generation) {
    const g = c.generation;
    lines.push(
      `- Calls: ${g.calls} paid, ${g.cachedCalls} from the prompt cache, ${g.fallbackCalls} answered by the fallback model; ${g.promptTokens + g.completionTokens} tokens, cost ${num(g.cost)}`,
      `- Variants: ${g.accepted} accepted, ${g.rejected} rejected and regenerated, ${g.review} sent to human review; PII fields scrubbed before sending: ${g.piiRemoved}`,
      `- Cost per accepted asset: ${num(c.costPerAcceptedAsset)}`,
    );
    if (g.budgetExhausted) lines.push(`- **Token budget per ${g.budgetExhausted.scope} exhausted**: ${g.budgetExhausted.used} of ${g.budgetExhausted.limit} tokens used, next call needed ${g.budgetExhausted.needed}; not written: ${g.budgetExhausted.productsSkipped.join(', ')}`);
  }
  if (c.review) lines.push(`- Human review: ${c.review.decision} by ${c.review.by} (${c.review.reason}) for ${c.review.variants} variant(s)`);
  if (c.variants.length) {
    lines.push('', '| product | arm | headline | description | status | why |', '|---|---|---|---|---|---|');
    for (const v of c.variants) lines.push(`| ${v.productId} | \`${v.variantId}\` | ${v.headline.replace(/\|/g, '/')} | ${v.description.replace(/\|/g, '/')} | ${v.status} | ${v.violations.map((x) => x.detail).join('; ').replace(/\|/g, '/') || '—'} |`);
  }
  for (const b of c.experiments) {
    // The arm's own text beside its id, so a reader need not look the id up.
    const winner = b.winner ? c.variants.find((v) => v.variantId === b.winner) : undefined;
    const text = winner ? ` — "${winner.headline.replace(/\|/g, '/')}" / "${winner.description.replace(/\|/g, '/')}"` : '';
    lines.push('', `### Bandit ${b.productId}`, '', `${b.winner ? `Winner \`${b.winner}\`${text} (P(best) ${num(b.pBest[b.winner])})` : 'No winner'} after ${b.rounds} rounds (${b.decidedBy}).`);
    if (b.regret) lines.push(`Regret: ${num(b.regret.bandit)} expected clicks lost vs ${num(b.regret.evenSplit)} for an even split (ratio ${num(b.regret.ratio, 3)}); planted best arm \`${b.regret.bestArm}\`.`);
  }
  if (c.published) lines.push('', `Live creatives: \`${formatTable(c.published)}\` (one per product).`);
  return lines;
}

export function createReportActivities({ dataDir }: ActivityDependencies) {
  return {
    /** The result as JSON and a Markdown report in <data>/reports, overwritten in place (idempotent). */
    async writeRolloutReport(result: RolloutResult): Promise<{ jsonPath: string; markdownPath: string }> {
      const dir = join(dataDir, 'reports');
      mkdirSync(dir, { recursive: true });
      const base = join(dir, fileSafe(result.workflowId));
      // The JSON opens with the readout too, report path included, as the workflow's Result does.
      const readout = rolloutReadout({ ...result, reportPath: `${base}.md` });
      const { readout: _stale, ...rest } = result;
      writeAtomically(`${base}.json`, JSON.stringify({ readout, ...rest }, null, 2));
      writeAtomically(`${base}.md`, renderRolloutMarkdown(result));
      return { jsonPath: `${base}.json`, markdownPath: `${base}.md` };
    },
  };
}
