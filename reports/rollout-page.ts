import type { ContentReadout, VariantRecord } from '../domain/content/results';
import type { ExperimentReadout } from '../domain/propensity/results';
import { rolloutReadout } from '../domain/rollout/readout';
import type { RolloutResult } from '../domain/rollout/result';
import { formatTable } from '../domain/table-ref';
import { allocationChart, posteriorChart, type BanditRoundRecord } from './charts/bandit';
import { effectChart, looksChart } from './charts/experiment';
import { guardrailMetricsChart } from './charts/guardrails';
import { kpiChart } from './charts/kpi';
import { calibrationChart, gainChart, liftChart, liftTable } from './charts/model';
import { maskEmails } from './escape';
import { el, figure, join, page, section, table, type Html } from './html';

/** What the page needs beyond the result: the bandits' rounds (from aimo.bandit_rounds) and where the other formats are. */
export interface RolloutPageExtras {
  readonly banditRounds?: Readonly<Record<string, readonly BanditRoundRecord[]>>;
  /** Links to the Markdown and JSON of the same report */
  readonly formats?: { readonly markdown: string; readonly json: string };
}

export const num = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : Number(v.toPrecision(digits)).toString();
const pct = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${(v * 100).toFixed(1)} %`);
const verdictClass = (v: string) => (v === 'met' ? 'met' : v === 'not met' ? 'not-met' : 'neutral') as 'met' | 'not-met' | 'neutral';
const passFail = (passed: boolean) => el('span', { class: passed ? 'pass' : 'fail' }, passed ? 'pass' : 'FAIL');
const charts = (figures: ReadonlyArray<Html | undefined>): Html | undefined => (figures.some(Boolean) ? el('div', { class: 'charts' }, ...figures) : undefined);

/** The rollout's report as one self-contained HTML page: the answer first, then a section per step with its charts. */
export async function renderRolloutHtml(r: RolloutResult, extras: RolloutPageExtras = {}): Promise<string> {
  const readout = rolloutReadout(r);
  const kpi = r.plan.kpi;
  const body = join([
    el('h1', {}, `Rollout ${r.useCase}`),
    el(
      'dl',
      { class: 'meta' },
      el('dt', {}, 'Goal'),
      el('dd', {}, `${kpi.metric} ${kpi.targetChange > 0 ? '+' : ''}${(kpi.targetChange * 100).toFixed(1)} % in ${kpi.channel} / ${kpi.market} by ${kpi.deadline}`),
      el('dt', {}, 'Outcome'),
      el('dd', {}, readout.goal.detail),
      el('dt', {}, 'Decision'),
      el('dd', {}, readout.decision),
      el('dt', {}, 'Status'),
      el('dd', {}, r.status),
      el('dt', {}, 'Workflow'),
      el('dd', {}, el('code', {}, r.workflowId)),
      r.plan.owner ? el('dt', {}, 'Owner') : null,
      r.plan.owner ? el('dd', {}, maskEmails(r.plan.owner)) : null,
      extras.formats ? el('dt', {}, 'Also as') : null,
      extras.formats ? el('dd', {}, el('a', { href: extras.formats.markdown }, 'Markdown'), ' · ', el('a', { href: extras.formats.json }, 'JSON')) : null,
    ),
    r.failure ? section('Why it stopped', el('pre', {}, r.failure)) : null,
    section('Steps', table(['step', 'outcome', 'summary'], r.steps.map((s) => [s.step, s.status, s.summary]))),
    r.kpi ? section('KPI', el('p', {}, `Baseline ${r.kpi.metric} over ${r.kpi.window.from} – ${r.kpi.window.to}: ${num(r.kpi.baseline)}; target ${num(r.kpi.target)}.`), charts([await figure('kpi', kpiChart(r))])) : null,
    r.inventory
      ? section(
          'Data inventory',
          table(
            ['source', 'table', 'rows', 'duplicate rate', 'staleness (h)', 'problems'],
            r.inventory.sources.map((s) => [s.source, formatTable(s.table), s.rows, num(s.duplicateRate, 3), num(s.stalenessHours, 3), [...s.blocking, ...s.warnings].join('; ') || null]),
          ),
          el('p', {}, `Consent coverage ${pct(r.inventory.consentCoverage)}, identity match rate ${pct(r.inventory.identityMatchRate)}.`),
        )
      : null,
    r.dataPath
      ? section(
          'Data path',
          table(
            ['model', 'rows', 'seconds', 'expectations'],
            r.dataPath.models.map((m) => {
              const failed = m.expectations.filter((e) => !e.success).map((e) => `${e.name} (${e.unexpectedCount})`);
              return [m.model, m.rows, num(m.seconds, 3), failed.length ? `failed: ${failed.join(', ')}` : `${m.expectations.length} passed`];
            }),
          ),
        )
      : null,
    r.model ? await modelSection(r.model) : null,
    r.guardrails
      ? section('Guardrail checks', table(['check', 'result', 'value', 'limit', 'detail'], r.guardrails.checks.map((c) => [c.name, passFail(c.passed), num(c.value), num(c.limit), c.detail]), { 'data-table': 'guardrail-checks' }))
      : null,
    r.experiment ? await experimentSection(r.experiment) : null,
    r.content ? await contentSection(r.content, extras.banditRounds ?? {}) : null,
    r.automation
      ? section(
          'Automation',
          table(['schedule', 'cron', 'outcome'], r.automation.schedules.map((s) => [el('code', {}, s.scheduleId), s.cron, s.outcome])),
          el('p', {}, 'Serving view ', el('code', {}, formatTable(r.automation.servingView)), ' → ', el('code', {}, r.automation.champion)),
        )
      : null,
    r.scale?.length ? section('Scale', table(['target', 'workflow', 'status', 'summary'], r.scale.map((c) => [`${c.channel} / ${c.market}`, el('code', {}, c.workflowId), c.status, c.summary]))) : null,
  ]);
  return page({ title: `aimo report: rollout ${r.useCase} (${r.workflowId})`, headline: readout.headline, verdict: verdictClass(readout.goal.verdict), body, footer: `aimo rollout report for workflow ${r.workflowId}` });
}

async function modelSection(model: NonNullable<RolloutResult['model']>): Promise<Html> {
  const m = model.metrics;
  const lift = liftTable(m);
  return section(
    'Baseline model',
    el('p', {}, 'Version ', el('code', {}, model.versionId), `: AUC ${num(m.auc)}, log loss ${num(m.logLoss)}, Brier ${num(m.brier)} on ${m.holdoutRows} holdout rows (prevalence ${pct(m.prevalence)}).`),
    charts([await figure('calibration', calibrationChart(m)), await figure('gain', gainChart(lift)), await figure('lift', liftChart(lift))]),
    lift.length
      ? table(['decile', 'users', 'conversion', 'lift', 'cumulative gain', 'users targeted'], lift.map((l) => [l.decile, l.users, pct(l.rate), num(l.lift, 3), pct(l.cumulativeGain), pct(l.cumulativeShare)]), { 'data-table': 'lift' })
      : null,
  );
}

async function experimentSection(e: ExperimentReadout): Promise<Html> {
  return section(
    'Experiment',
    el('p', {}, e.summary),
    el(
      'p',
      {},
      `Users: ${e.arms.control.users} control, ${e.arms.treatment.users} treatment; SRM p = ${num(e.srm.pValue, 3)}${e.srm.flagged ? ' (flagged)' : ''}. ` +
        `Conversion: control ${pct(e.arms.control.conversionRate)}, treatment ${pct(e.arms.treatment.conversionRate)}. Cost per incremental conversion: ${num(e.costPerIncrementalConversion)}. Decision: ${e.ship ? 'ship' : 'no ship'}.`,
    ),
    e.decision ? el('p', {}, `Rule: ${e.decision.rule}.`) : null,
    e.decision?.reasons.length ? el('ul', {}, ...e.decision.reasons.map((reason) => el('li', {}, reason))) : null,
    charts([await figure('effect', effectChart(e)), await figure('looks', looksChart(e))]),
    e.guardrails?.length
      ? join([
          el('h3', {}, 'Guardrail metrics'),
          charts([await figure('guardrail-metrics', guardrailMetricsChart(e))]),
          table(
            ['metric', 'measure', 'effect', 'interval', 'tolerated', 'result'],
            e.guardrails.map((g) => [g.metric, g.measure, num(g.absolute), `${num(g.ciLow)} to ${num(g.ciHigh)}`, num(g.threshold), g.measurable ? passFail(!g.failed) : `not measurable: ${g.detail}`]),
          ),
        ])
      : null,
  );
}

/** "headline" / "description": an arm's own text, shown beside its id. */
const armText = (v: VariantRecord | undefined) => (v ? `“${v.headline}” / “${v.description}”` : '(text not recorded)');

async function contentSection(c: ContentReadout, rounds: Readonly<Record<string, readonly BanditRoundRecord[]>>): Promise<Html> {
  const g = c.generation;
  const bandits: Html[] = [];
  for (const b of c.experiments) {
    const arms = Object.keys(b.shares).length ? Object.keys(b.shares) : b.arms.map((a) => a.armId);
    const variant = (id: string) => c.variants.find((v) => v.variantId === id);
    bandits.push(
      join([
        el('h3', {}, `Bandit ${b.productId}`),
        el('p', {}, b.winner ? join([el('span', {}, 'Winner '), el('code', {}, b.winner), el('span', {}, ` ${armText(variant(b.winner))} (P(best) ${num(b.pBest[b.winner])})`)]) : 'No winner', ` after ${b.rounds} rounds (${b.decidedBy}).`),
        b.regret ? el('p', {}, `Regret: ${num(b.regret.bandit)} expected clicks lost vs ${num(b.regret.evenSplit)} for an even split (ratio ${num(b.regret.ratio, 3)}).`) : null,
        charts([await figure(`allocation-${b.productId}`, allocationChart(b.productId, rounds[b.experimentId] ?? [])), await figure(`posterior-${b.productId}`, posteriorChart(b.productId, rounds[b.experimentId] ?? []))]),
        table(
          ['arm', 'text', 'impressions', 'clicks', 'P(best)', 'final share'],
          arms.map((id) => {
            const stats = b.arms.find((a) => a.armId === id);
            return [el('code', {}, id), armText(variant(id)), stats?.impressions ?? null, stats?.clicks ?? null, num(b.pBest[id], 3), pct(b.shares[id])];
          }),
          { 'data-table': `arms-${b.productId}` },
        ),
      ]),
    );
  }
  return section(
    'Creatives',
    c.baseline.baseline !== null ? el('p', {}, `Incumbent ${c.baseline.metric}: ${num(c.baseline.baseline)} over ${c.baseline.impressions} impressions; target ${num(c.baseline.target)}.`) : null,
    g
      ? el(
          'p',
          {},
          `Calls: ${g.calls} paid, ${g.cachedCalls} cached, ${g.fallbackCalls} by the fallback model; ${g.promptTokens + g.completionTokens} tokens, cost ${num(g.cost)}. ` +
            `Variants: ${g.accepted} accepted, ${g.rejected} rejected, ${g.review} sent to review. Cost per accepted asset: ${num(c.costPerAcceptedAsset)}.`,
        )
      : null,
    c.review ? el('p', {}, `Human review: ${c.review.decision} by ${maskEmails(c.review.by)} (${c.review.reason}) for ${c.review.variants} variant(s).`) : null,
    c.variants.length
      ? table(
          ['product', 'arm', 'headline', 'description', 'status', 'why'],
          c.variants.map((v) => [v.productId, el('code', {}, v.variantId), v.headline, v.description, v.status, v.violations.map((x) => x.detail).join('; ') || null]),
          { 'data-table': 'variants' },
        )
      : null,
    ...bandits,
  );
}
