import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { ProductFacts } from '../../domain/content/rules';
import type { ContentReadout, VariantRecord } from '../../domain/content/results';
import { shortHash } from '../../domain/naming';
import { checkPlan, type ContentPlan } from '../../domain/plan';
import { notApplicable, registerUseCase, type StepReport, type StepRun } from '../../domain/rollout/contract';
import { formatNumber as fmt, round6, sum } from '../../domain/rollout/format';
import { dataActivities, quickActivities } from '../activity-proxies';
import { stopOnBlockingGaps } from '../rollout/blocking-gaps';
import { contentBandit } from './bandit';
import { contentGeneration } from './generation';
import { formatTable } from '../../domain/table-ref';

/** What the steps of one content rollout hand on to the next. */
interface ContentState {
  readonly content: ContentReadout;
  facts: ProductFacts[];
  /** Accepted or approved variants per product, once the guardrails ran */
  testable: Array<[productId: string, arms: string[]]>;
}

type Run = StepRun<ContentPlan>;

/** 1 KPI — the incumbent creative's click-through rate, from its history. */
async function kpi(run: Run, state: ContentState): Promise<StepReport> {
  run.result.content = state.content;
  const b = (state.content.baseline = await dataActivities.measureContentBaseline({ ctx: run.ctx, plan: run.plan }));
  return { status: b.baseline === null ? 'failed' : 'passed', summary: `${run.plan.kpi.metric} baseline ${fmt(b.baseline)} → target ${fmt(b.target)}`, numbers: { baseline: b.baseline, target: b.target } };
}

/** 2 Inventory — the product facts every creative is grounded in, kept in aimo.content_facts. */
async function inventory(run: Run, state: ContentState): Promise<StepReport> {
  const facts = await dataActivities.loadProductFacts({ ctx: run.ctx, plan: run.plan });
  if (facts.blocking.length > 0) return stopOnBlockingGaps(run, facts);
  state.facts = facts.facts;
  return { status: 'passed', summary: `${facts.facts.length} product(s), ${facts.warnings.length} warning(s)`, numbers: { products: facts.facts.length, warnings: facts.warnings.length } };
}

/** 4 Baseline — the generation job (a child workflow on the rate-limited LLM queue), with regeneration within the cap. */
async function baselineModel(run: Run, state: ContentState): Promise<StepReport> {
  const { ctx, plan } = run;
  const llmTaskQueue = plan.content.llmTaskQueue ?? `${workflowInfo().taskQueue}-llm`;
  const generation = await executeChild(contentGeneration, { workflowId: `${ctx.workflowId}-content`, args: [{ ctx, plan, facts: state.facts, llmTaskQueue }] });
  const g = (state.content.generation = generation.summary);
  state.content.variants = generation.variants;
  const numbers = { calls: g.calls, cachedCalls: g.cachedCalls, tokens: g.promptTokens + g.completionTokens, cost: round6(g.cost), accepted: g.accepted, rejected: g.rejected, review: g.review };
  if (!g.budgetExhausted) {
    return { status: 'passed', summary: `${g.accepted} accepted variant(s); ${g.calls} paid call(s), ${g.cachedCalls} answer(s) from the cache, cost ${fmt(g.cost)}`, numbers };
  }
  const x = g.budgetExhausted;
  const why = `token budget per ${x.scope} exhausted: ${x.used} of ${x.limit} tokens used and the next call needs up to ${x.needed}; no call was made for ${x.productsSkipped.join(', ')}`;
  await run.audit('baseline-model', 'budget-exhausted', why);
  await quickActivities.recordContentVariants({ ctx, variants: state.content.variants });
  return { status: 'failed', summary: why, numbers: { ...numbers, budgetScope: x.scope, budgetUsed: x.used, budgetLimit: x.limit }, end: { state: 'failed', failure: `Content generation stopped: ${why}` } };
}

/** 5 Guardrails — the claim checks decided in the job; what still fails goes to a person. */
async function guardrails(run: Run, state: ContentState): Promise<StepReport> {
  const c = state.content;
  const g = c.generation!;
  const review = c.variants.filter((v) => v.status === 'review');
  await run.audit('guardrails', review.length ? 'review' : 'passed', `${g.accepted} accepted, ${g.rejected} rejected and regenerated, ${review.length} for review`);
  if (review.length > 0) await reviewByPerson(run, c, review);
  const live = c.variants.filter((v) => v.status === 'accepted' || v.status === 'approved-by-reviewer');
  c.costPerAcceptedAsset = live.length ? round6(g.cost / live.length) : null;
  const byProduct = new Map<string, string[]>();
  for (const v of live) byProduct.set(v.productId, [...(byProduct.get(v.productId) ?? []), v.variantId]);
  state.testable = [...byProduct.entries()].filter(([, arms]) => arms.length >= 2);
  const violations = c.variants.flatMap((v) => v.violations.map((x) => x.rule));
  return {
    status: state.testable.length ? 'passed' : 'failed',
    summary: `${live.length} variant(s) live, ${violations.length} violation(s) caught${review.length ? `, ${review.length} reviewed by a person` : ''}`,
    numbers: { live: live.length, violations: violations.length, priceViolations: violations.filter((r) => r === 'price').length, costPerAcceptedAsset: c.costPerAcceptedAsset },
    ...(state.testable.length ? {} : { end: { state: 'failed', failure: 'No product has two accepted variants to test against each other' } }),
  };
}

async function reviewByPerson(run: Run, c: ContentReadout, review: VariantRecord[]): Promise<void> {
  const decision = await run.approval('content-review');
  await run.audit('guardrails', decision.decision, decision.reason, decision.by, { variants: review.map((v) => v.variantId) });
  const status: VariantRecord['status'] = decision.decision === 'approve' ? 'approved-by-reviewer' : 'rejected-by-reviewer';
  c.variants = c.variants.map((v) => (v.status === 'review' ? { ...v, status } : v));
  c.review = { decision: decision.decision, by: decision.by, reason: decision.reason, variants: review.length };
  await quickActivities.recordContentVariants({ ctx: run.ctx, variants: c.variants.filter((v) => v.status === status) });
}

/** 6 Experiment — one bandit per product with two or more live variants, in parallel. */
async function experiment(run: Run, state: ContentState): Promise<StepReport> {
  const { ctx, plan } = run;
  const c = state.content;
  const seed = parseInt(shortHash(ctx.workflowId), 16);
  c.experiments = await Promise.all(
    state.testable.map(([productId, arms]) =>
      executeChild(contentBandit, {
        workflowId: `${ctx.workflowId}-bandit-${productId}`,
        args: [{ useCase: ctx.useCase, experimentId: `${ctx.tablePrefix}_${productId}`, productId, arms, settings: plan.content.bandit, sourceSchema: plan.sources.schema, outcomesTable: plan.content.outcomesTable, seed }],
      }),
    ),
  );
  const winners = c.experiments.filter((e) => e.winner);
  const hasRegret = c.experiments.some((e) => e.regret);
  const lost = sum(c.experiments.map((e) => e.regret?.bandit ?? 0));
  const even = sum(c.experiments.map((e) => e.regret?.evenSplit ?? 0));
  await run.audit('experiment', winners.length ? 'winners' : 'no-winner', c.experiments.map((e) => `${e.productId}: ${e.winner ?? 'none'}`).join('; '));
  return {
    status: winners.length ? 'passed' : 'failed',
    summary: `${winners.length}/${c.experiments.length} product(s) with a winner${hasRegret ? `; regret ${fmt(lost)} clicks vs ${fmt(even)} for an even split` : ''}`,
    numbers: { experiments: c.experiments.length, winners: winners.length, regret: hasRegret ? round6(lost) : null, regretEvenSplit: hasRegret ? round6(even) : null },
  };
}

/** 7 Automation — each product's chosen creative goes live where activation reads it. */
async function automation(run: Run, state: ContentState): Promise<StepReport> {
  const choices = state.content.experiments.map((e) => {
    const variantId = e.winner ?? Object.entries(e.pBest).sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0]![0];
    return { variantId, decidedBy: e.decidedBy, pBest: e.pBest[variantId] ?? 0 };
  });
  const published = await dataActivities.publishCreatives({ ctx: run.ctx, choices });
  state.content.published = published.table;
  await run.audit('automation', 'published', `${formatTable(published.table)}: ${choices.map((c) => c.variantId).join(', ')}`);
  return { status: 'passed', summary: `creatives of ${published.products} product(s) live in ${formatTable(published.table)}`, numbers: { products: published.products } };
}

/**
 * The content use case: search-ad variants written by an LLM for a list of
 * products, checked against the product facts, and tested against each
 * other in one bandit per product; the winners go live.
 */
export const contentUseCase = registerUseCase<ContentPlan, ContentState>({
  kind: 'content',
  checkPlan(input) {
    const checked = checkPlan(input);
    if (!checked.ok) return checked;
    return checked.plan.kind === 'content' ? { ok: true, plan: checked.plan } : { ok: false, problems: ['kind: this is not a content plan'] };
  },
  initialState: (plan) => ({
    content: { baseline: { metric: plan.kpi.metric, baseline: null, target: null, window: null, impressions: 0, clicks: 0 }, variants: [], costPerAcceptedAsset: null, experiments: [] },
    facts: [],
    testable: [],
  }),
  steps: {
    kpi,
    inventory,
    'data-path': notApplicable('the product facts are the whole data path: the inventory step reads them with bound parameters and keeps them in aimo.content_facts'),
    'baseline-model': baselineModel,
    guardrails,
    experiment,
    automation,
    scale: notApplicable('scale-out of content use cases is not supported yet'),
  },
});
