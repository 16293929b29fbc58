import { executeChild, workflowInfo } from '@temporalio/workflow';
import type { BanditReadout, ContentReadout, VariantRecord } from '../../domain/content/results';
import type { RolloutResult } from '../../domain/rollout/result';
import { durationToMs } from '../../domain/duration';
import { shortHash } from '../../domain/naming';
import type { ContentPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import type { RolloutState, RolloutStep, StepOutcome } from '../../domain/rollout/status';
import { dataActivities, quickActivities } from '../activity-proxies';
import type { ApprovalGate } from '../rollout/approval-gate';
import { stopOnBlockingGaps } from '../rollout/blocking-gaps';
import { contentBandit } from './bandit';
import { contentGeneration } from './generation';

export interface ContentRolloutParts {
  readonly plan: ContentPlan;
  readonly ctx: RolloutContext;
  readonly result: RolloutResult;
  readonly tracker: {
    begin(step: RolloutStep): void;
    done(step: RolloutStep, status: StepOutcome['status'], summary: string, numbers: StepOutcome['numbers']): void;
  };
  readonly gates: ApprovalGate;
  audit(step: RolloutStep | 'rollout', decision: string, reason: string, actor?: string, details?: Record<string, unknown>): Promise<void>;
  finish(state: RolloutState, failure?: string): Promise<RolloutResult>;
}

/**
 * The eight steps for a content use case. KPI: the incumbent creative's CTR
 * from its history. Inventory and data path: the product facts, per product,
 * into aimo.content_facts. Baseline: the generation job (a child workflow on
 * the rate-limited LLM queue). Guardrails: the claim checks' verdicts, with
 * what still fails after regeneration sent to a person. Experiment: one
 * bandit per product with at least two accepted variants. Automation: each
 * product's chosen creative published where activation reads it. Scale has
 * nothing to do for creatives yet and says so.
 */
export async function contentRollout(p: ContentRolloutParts): Promise<RolloutResult> {
  const { plan, ctx, result, tracker, gates, audit, finish } = p;
  const c = plan.content;
  const content: ContentReadout = {
    baseline: { metric: plan.kpi.metric, baseline: null, target: null, window: null, impressions: 0, clicks: 0 },
    variants: [],
    costPerAcceptedAsset: null,
    experiments: [],
  };
  result.content = content;

  // 1 KPI — the incumbent creative's click-through rate, from data.
  tracker.begin('kpi');
  content.baseline = await dataActivities.measureContentBaseline({ ctx, plan });
  const b = content.baseline;
  tracker.done('kpi', b.baseline === null ? 'failed' : 'passed', `${plan.kpi.metric} baseline ${fmt(b.baseline)} → target ${fmt(b.target)}`, { baseline: b.baseline, target: b.target });

  // 2 Inventory + 3 data path — the product facts every creative is grounded in.
  tracker.begin('inventory');
  const facts = await dataActivities.loadProductFacts({ ctx, plan });
  if (facts.blocking.length > 0) await stopOnBlockingGaps({ tracker, audit, finish }, facts);
  tracker.done('inventory', 'passed', `${facts.facts.length} product(s), ${facts.warnings.length} warning(s)`, { products: facts.facts.length, warnings: facts.warnings.length });
  tracker.begin('data-path');
  tracker.done('data-path', 'passed', `product facts of ${facts.facts.length} product(s) kept in aimo.content_facts`, { products: facts.facts.length });

  // 4 Baseline — the generation job, with regeneration within the cap.
  tracker.begin('baseline-model');
  const llmTaskQueue = c.llmTaskQueue ?? `${workflowInfo().taskQueue}-llm`;
  const generation = await executeChild(contentGeneration, {
    workflowId: `${ctx.workflowId}-content`,
    args: [{ ctx, plan, facts: facts.facts, llmTaskQueue }],
  });
  const g = generation.summary;
  content.generation = g;
  content.variants = generation.variants;
  const numbers = { calls: g.calls, cachedCalls: g.cachedCalls, tokens: g.promptTokens + g.completionTokens, cost: round6(g.cost), accepted: g.accepted, rejected: g.rejected, review: g.review };
  if (g.budgetExhausted) {
    const x = g.budgetExhausted;
    const why = `token budget per ${x.scope} exhausted: ${x.used} of ${x.limit} tokens used and the next call needs up to ${x.needed}; no call was made for ${x.productsSkipped.join(', ')}`;
    tracker.done('baseline-model', 'failed', why, { ...numbers, budgetScope: x.scope, budgetUsed: x.used, budgetLimit: x.limit });
    await audit('baseline-model', 'budget-exhausted', why);
    await quickActivities.recordContentVariants({ ctx, variants: content.variants });
    return await finish('failed', `Content generation stopped: ${why}`);
  }
  tracker.done('baseline-model', 'passed', `${g.accepted} accepted variant(s); ${g.calls} paid call(s), ${g.cachedCalls} answer(s) from the cache, cost ${fmt(g.cost)}`, numbers);

  // 5 Guardrails — claim checks decided in the job; what still fails goes to a person.
  tracker.begin('guardrails');
  const review = content.variants.filter((v) => v.status === 'review');
  await audit('guardrails', review.length ? 'review' : 'passed', `${g.accepted} accepted, ${g.rejected} rejected and regenerated, ${review.length} for review`);
  if (review.length > 0) {
    const decision = await gates.wait('content-review', durationToMs(plan.approval.timeout), plan.approval.onTimeout);
    await audit('guardrails', decision.decision, decision.reason, decision.by, { variants: review.map((v) => v.variantId) });
    const status: VariantRecord['status'] = decision.decision === 'approve' ? 'approved-by-reviewer' : 'rejected-by-reviewer';
    content.variants = content.variants.map((v) => (v.status === 'review' ? { ...v, status } : v));
    content.review = { decision: decision.decision, by: decision.by, reason: decision.reason, variants: review.length };
    await quickActivities.recordContentVariants({ ctx, variants: content.variants.filter((v) => v.status === status) });
  }
  const live = content.variants.filter((v) => v.status === 'accepted' || v.status === 'approved-by-reviewer');
  content.costPerAcceptedAsset = live.length ? round6(g.cost / live.length) : null;
  const byProduct = new Map<string, string[]>();
  for (const v of live) byProduct.set(v.productId, [...(byProduct.get(v.productId) ?? []), v.variantId]);
  const testable = [...byProduct.entries()].filter(([, arms]) => arms.length >= 2);
  const violations = content.variants.filter((v) => v.violations.length).flatMap((v) => v.violations.map((x) => x.rule));
  tracker.done('guardrails', testable.length ? 'passed' : 'failed', `${live.length} variant(s) live, ${violations.length} violation(s) caught${review.length ? `, ${review.length} reviewed by a person` : ''}`, {
    live: live.length,
    violations: violations.length,
    priceViolations: violations.filter((r) => r === 'price').length,
    costPerAcceptedAsset: content.costPerAcceptedAsset,
  });
  if (testable.length === 0) return await finish('failed', 'No product has two accepted variants to test against each other');

  // 6 Experiment — one bandit per product, in parallel.
  if (plan.approval.beforeExperiment) {
    const decision = await gates.wait('experiment', durationToMs(plan.approval.timeout), plan.approval.onTimeout);
    await audit('experiment', decision.decision, decision.reason, decision.by);
    if (decision.decision === 'reject') return await finish('rejected', `Rejected before the experiment by ${decision.by}: ${decision.reason}`);
  }
  tracker.begin('experiment');
  const seed = parseInt(shortHash(ctx.workflowId), 16);
  content.experiments = await Promise.all(
    testable.map(([productId, arms]) =>
      executeChild(contentBandit, {
        workflowId: `${ctx.workflowId}-bandit-${productId}`,
        args: [{ useCase: ctx.useCase, experimentId: `${ctx.tablePrefix}_${productId}`, productId, arms, settings: c.bandit, sourceSchema: plan.sources.schema, outcomesTable: c.outcomesTable, seed }],
      }),
    ),
  );
  const winners = content.experiments.filter((e) => e.winner);
  const lost = sum(content.experiments.map((e) => e.regret?.bandit ?? 0));
  const even = sum(content.experiments.map((e) => e.regret?.evenSplit ?? 0));
  const hasRegret = content.experiments.some((e) => e.regret);
  tracker.done('experiment', winners.length ? 'passed' : 'failed', `${winners.length}/${content.experiments.length} product(s) with a winner${hasRegret ? `; regret ${fmt(lost)} clicks vs ${fmt(even)} for an even split` : ''}`, {
    experiments: content.experiments.length,
    winners: winners.length,
    regret: hasRegret ? round6(lost) : null,
    regretEvenSplit: hasRegret ? round6(even) : null,
  });
  await audit('experiment', winners.length ? 'winners' : 'no-winner', content.experiments.map((e: BanditReadout) => `${e.productId}: ${e.winner ?? 'none'}`).join('; '));

  // 7 Automation — each product's chosen creative goes live where activation reads it.
  tracker.begin('automation');
  const choices = content.experiments.map((e) => {
    const variantId = e.winner ?? Object.entries(e.pBest).sort(([a, x], [b, y]) => y - x || a.localeCompare(b))[0]![0];
    return { variantId, decidedBy: e.decidedBy, pBest: e.pBest[variantId] ?? 0 };
  });
  const published = await dataActivities.publishCreatives({ ctx, choices });
  content.published = published.table;
  tracker.done('automation', 'passed', `creatives of ${published.products} product(s) live in ${published.table}`, { products: published.products });
  await audit('automation', 'published', `${published.table}: ${choices.map((c) => c.variantId).join(', ')}`);

  // 8 Nothing to fan out for creatives yet.
  tracker.begin('scale');
  tracker.done('scale', 'skipped', 'scale-out of content use cases is not supported yet', {});
  await audit('rollout', 'completed', `rollout of ${plan.useCase} completed`);
  return await finish('completed');
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function fmt(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : Number(value.toPrecision(4)).toString();
}
