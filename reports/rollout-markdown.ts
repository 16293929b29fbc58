import type { ContentReadout } from '../domain/content/results';
import type { ExperimentReadout } from '../domain/propensity/results';
import { rolloutReadout } from '../domain/rollout/readout';
import type { RolloutResult } from '../domain/rollout/result';
import { formatTable } from '../domain/table-ref';
import { escapeMarkdown as md, escapeMarkdownBlock, markdownCode as code, maskEmails } from './escape';

const num = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(digits)).toString();

/**
 * The rollout's report as Markdown. Free text (owner, summaries, reasons,
 * creative text) is escaped, so markup in it stays text and no cell breaks.
 */
export function renderRolloutMarkdown(r: RolloutResult, links?: { html?: string }): string {
  const lines: string[] = [];
  lines.push(`# Rollout ${md(r.useCase)}`, '');
  // The answer first: whether the goal was met, and what was decided.
  const readout = rolloutReadout(r);
  lines.push(`**${readout.headline}**`, '', `- ${readout.goal.detail}`);
  lines.push(`- Workflow: ${code(r.workflowId)}`, `- Status: **${r.status}**`);
  if (r.plan.owner) lines.push(`- Owner: ${md(maskEmails(r.plan.owner))}`);
  if (links?.html) lines.push(`- Report with charts: ${links.html}`);
  lines.push(`- Goal: ${r.plan.kpi.metric} ${r.plan.kpi.targetChange > 0 ? '+' : ''}${(r.plan.kpi.targetChange * 100).toFixed(1)} % in ${r.plan.kpi.channel} / ${r.plan.kpi.market} by ${r.plan.kpi.deadline}`);
  if (r.failure) lines.push('', '## Why it stopped', '', '```', escapeMarkdownBlock(r.failure), '```');
  lines.push('', '## Steps', '', '| step | outcome | summary |', '|---|---|---|');
  for (const s of r.steps) lines.push(`| ${s.step} | ${s.status} | ${md(s.summary)} |`);
  if (r.kpi) {
    lines.push('', '## KPI', '', `Baseline ${r.kpi.metric} over ${r.kpi.window.from} – ${r.kpi.window.to}: **${num(r.kpi.baseline)}**; target **${num(r.kpi.target)}**.`);
  }
  if (r.inventory) {
    lines.push('', '## Data inventory', '', '| source | table | rows | duplicate rate | staleness (h) | problems |', '|---|---|---|---|---|---|');
    for (const s of r.inventory.sources) {
      lines.push(`| ${s.source} | ${md(formatTable(s.table))} | ${s.rows} | ${num(s.duplicateRate, 3)} | ${num(s.stalenessHours, 3)} | ${md([...s.blocking, ...s.warnings].join('; ')) || '—'} |`);
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
    lines.push('', '## Baseline model', '', `Version ${code(r.model.versionId)}: AUC ${num(m.auc)}, log loss ${num(m.logLoss)}, Brier ${num(m.brier)} on ${m.holdoutRows} holdout rows.`);
  }
  if (r.guardrails) {
    lines.push('', '## Guardrails', '', '| check | result | detail |', '|---|---|---|');
    for (const c of r.guardrails.checks) lines.push(`| ${md(c.name)} | ${c.passed ? 'pass' : 'FAIL'} | ${md(c.detail)} |`);
  }
  if (r.experiment) {
    const e = r.experiment;
    lines.push('', '## Experiment', '', md(e.summary), '');
    lines.push(`- Users: ${e.arms.control.users} control, ${e.arms.treatment.users} treatment; SRM p = ${num(e.srm.pValue, 3)}${e.srm.flagged ? ' (**flagged**)' : ''}`);
    lines.push(`- Conversion: control ${num(e.arms.control.conversionRate)}, treatment ${num(e.arms.treatment.conversionRate)}; uplift ${num(e.effect.absolute)} (95 % CI ${num(e.effect.ciLow)} to ${num(e.effect.ciHigh)})`);
    lines.push(`- Cost per incremental conversion: ${num(e.costPerIncrementalConversion)}`, `- Decision: **${e.ship ? 'ship' : 'no ship'}**`);
    lines.push(...renderExperimentDetails(e));
  }
  if (r.content) lines.push(...renderContentMarkdown(r.content));
  if (r.automation) {
    lines.push('', '## Automation', '');
    for (const s of r.automation.schedules) lines.push(`- schedule ${code(s.scheduleId)} (${md(s.cron)}): ${md(s.outcome)}`);
    lines.push(`- serving view: ${code(formatTable(r.automation.servingView))} → ${code(r.automation.champion)}`);
  }
  if (r.scale?.length) {
    lines.push('', '## Scale', '', '| target | workflow | status |', '|---|---|---|');
    for (const c of r.scale) lines.push(`| ${md(c.channel)} / ${md(c.market)} | ${code(c.workflowId)} | ${md(c.status)} |`);
  }
  return lines.join('\n') + '\n';
}

/** Design, primary effect, CUPED, sequential looks, geo pairs and guardrail metrics of a readout from this release on. */
function renderExperimentDetails(e: ExperimentReadout): string[] {
  const lines: string[] = [];
  const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(1)} %`);
  if (e.design) {
    const d = e.design;
    lines.push('', '### Design', '', `${d.design === 'geo' ? 'Geo' : 'A/B'} test, ${d.analysis} analysis at alpha ${d.alpha}: ${md(d.summary)}.`);
    lines.push('', '| outcome days | baseline conversion | power at the MDE |', '|---|---|---|');
    for (const b of d.byDays) lines.push(`| ${b.days} | ${pct(b.baselineRate)} | ${pct(b.power)} |`);
    if (d.expectedVarianceReduction !== null) lines.push('', `CUPED on the pre-period removed ${pct(d.expectedVarianceReduction)} of the variance one window earlier.`);
  }
  if (e.decision) {
    const p = e.decision.primary;
    lines.push('', '### Decision', '', `Primary effect (${p.method}): ${num(p.absolute)} (${Math.round(p.confidence * 100)} % CI ${num(p.ciLow)} to ${num(p.ciHigh)}).`, `Rule: ${md(e.decision.rule)}.`);
    if (e.decision.reasons.length) lines.push('', ...e.decision.reasons.map((r) => `- ${md(r)}`));
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
    for (const p of g.pairs) lines.push(`| ${md(p.treatment)} | ${md(p.control)} | ${num(p.difference)} | ${num(p.preDifference)} |`);
  }
  if (e.guardrails?.length) {
    lines.push('', '### Guardrail metrics', '', '| metric | measure | effect | interval | tolerated | result |', '|---|---|---|---|---|---|');
    for (const g of e.guardrails) {
      lines.push(`| ${g.metric} | ${g.measure} | ${num(g.absolute)} | ${num(g.ciLow)} to ${num(g.ciHigh)} | ${num(g.threshold)} | ${g.measurable ? (g.failed ? 'FAIL' : 'pass') : `not measurable: ${md(g.detail)}`} |`);
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
    if (g.budgetExhausted) lines.push(`- **Token budget per ${g.budgetExhausted.scope} exhausted**: ${g.budgetExhausted.used} of ${g.budgetExhausted.limit} tokens used, next call needed ${g.budgetExhausted.needed}; not written: ${md(g.budgetExhausted.productsSkipped.join(', '))}`);
  }
  if (c.review) lines.push(`- Human review: ${md(c.review.decision)} by ${md(maskEmails(c.review.by))} (${md(c.review.reason)}) for ${c.review.variants} variant(s)`);
  if (c.variants.length) {
    lines.push('', '| product | arm | headline | description | status | why |', '|---|---|---|---|---|---|');
    for (const v of c.variants) lines.push(`| ${md(v.productId)} | ${code(v.variantId)} | ${md(v.headline)} | ${md(v.description)} | ${v.status} | ${md(v.violations.map((x) => x.detail).join('; ')) || '—'} |`);
  }
  for (const b of c.experiments) {
    // The arm's own text beside its id, so a reader need not look the id up.
    const winner = b.winner ? c.variants.find((v) => v.variantId === b.winner) : undefined;
    const text = winner ? ` — "${md(winner.headline)}" / "${md(winner.description)}"` : '';
    lines.push('', `### Bandit ${md(b.productId)}`, '', `${b.winner ? `Winner ${code(b.winner)}${text} (P(best) ${num(b.pBest[b.winner])})` : 'No winner'} after ${b.rounds} rounds (${b.decidedBy}).`);
    if (b.regret) lines.push(`Regret: ${num(b.regret.bandit)} expected clicks lost vs ${num(b.regret.evenSplit)} for an even split (ratio ${num(b.regret.ratio, 3)}); planted best arm ${code(b.regret.bestArm)}.`);
  }
  if (c.published) lines.push('', `Live creatives: ${code(formatTable(c.published))} (one per product).`);
  return lines;
}
