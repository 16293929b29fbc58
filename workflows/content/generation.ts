import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { GenerationSummary, VariantRecord } from '../../domain/content/results';
import type { GenerateResult } from '../../domain/content/results';
import { checkVariant, variantId, type ContentRules, type ProductFacts, type Violation } from '../../domain/content/rules';
import { shortHash } from '../../domain/naming';
import type { ContentPlan } from '../../domain/plan';
import type { RolloutContext } from '../../domain/rollout/context';
import { quickActivities } from '../activity-proxies';

export interface ContentGenerationInput {
  readonly ctx: RolloutContext;
  readonly plan: ContentPlan;
  readonly facts: ProductFacts[];
  /** Task queue of the rate-limited LLM worker */
  readonly llmTaskQueue: string;
}

export interface ContentGenerationResult {
  readonly summary: GenerationSummary;
  readonly variants: VariantRecord[];
}

/** Content generation is the use case's baseline step: a prompt workflow, one job. */
export function llmActivities(taskQueue: string) {
  return proxyActivities<Activities>({
    taskQueue,
    startToCloseTimeout: '2 minutes',
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
  });
}

/**
 * One generation job: for each product, ask for the plan's number of
 * variants, check every variant against the guardrails (length, format,
 * banned terms, brand, price and availability claims vs the facts, PII,
 * injection echoes, moderation), regenerate the failing ones with the reasons
 * as feedback up to the plan's cap, and send what still fails to human
 * review. Calls stop as soon as a token budget says so. The job's id is this
 * workflow's id: the per-job budget is keyed by it.
 */
export async function contentGeneration(input: ContentGenerationInput): Promise<ContentGenerationResult> {
  const { ctx, facts } = input;
  const job: GenerationJob = {
    input,
    jobId: workflowInfo().workflowId,
    llm: llmActivities(input.llmTaskQueue),
    rules: contentRules(input.plan.content),
    totals: { cachedCalls: 0, fallbackCalls: 0, piiRemoved: 0 },
    moderation: 'not-run',
    variants: [],
  };
  let budgetExhausted: GenerationSummary['budgetExhausted'];
  for (const [index, product] of facts.entries()) {
    const exhausted = await generateForProduct(job, product);
    if (exhausted) {
      budgetExhausted = { ...exhausted, productsSkipped: facts.slice(index).map((f) => f.productId) };
      break;
    }
  }

  await quickActivities.recordContentVariants({ ctx, variants: job.variants });
  // Calls, tokens and cost as booked: a retry after a lost worker may have paid for an answer the results above never saw.
  const booked = await quickActivities.bookedLlmUsage({ jobId: job.jobId });
  const count = (status: VariantRecord['status']) => job.variants.filter((v) => v.status === status).length;
  return {
    summary: {
      jobId: job.jobId,
      ...job.totals,
      calls: booked.paidCalls,
      promptTokens: booked.promptTokens,
      completionTokens: booked.completionTokens,
      cost: booked.cost,
      accepted: count('accepted'),
      rejected: count('rejected'),
      review: count('review'),
      moderation: job.moderation,
      ...(budgetExhausted ? { budgetExhausted } : {}),
    },
    variants: job.variants,
  };
}

/** One generation job in progress: what it has written and counted so far. */
interface GenerationJob {
  readonly input: ContentGenerationInput;
  readonly jobId: string;
  readonly llm: ReturnType<typeof llmActivities>;
  readonly rules: ContentRules;
  readonly totals: { cachedCalls: number; fallbackCalls: number; piiRemoved: number };
  moderation: GenerationSummary['moderation'];
  readonly variants: VariantRecord[];
}

type BudgetStop = Omit<NonNullable<GenerationSummary['budgetExhausted']>, 'productsSkipped'>;

function contentRules(c: ContentPlan['content']): ContentRules {
  return {
    format: c.format,
    bannedTerms: c.bannedTerms,
    maxExclamationMarks: c.brandRules.maxExclamationMarks,
    allowAllCapsWords: c.brandRules.allowAllCapsWords,
    ...(c.brandRules.brandName ? { brandName: c.brandRules.brandName } : {}),
  };
}

/** Asks for one product's variants, then regenerates with the failures' reasons until enough pass or the cap is reached. */
async function generateForProduct(job: GenerationJob, product: ProductFacts): Promise<BudgetStop | undefined> {
  const { ctx, plan } = job.input;
  const c = plan.content;
  const accepted = new Set<string>();
  let feedback: string[] = [];
  for (let attempt = 0; attempt <= c.maxRegenerations && accepted.size < c.variantsPerProduct; attempt++) {
    const now = new Date();
    const result: GenerateResult = await job.llm.generateCreatives({
      useCase: ctx.useCase,
      jobId: job.jobId,
      day: now.toISOString().slice(0, 10),
      at: now.toISOString(),
      market: plan.kpi.market,
      facts: product,
      count: c.variantsPerProduct - accepted.size,
      feedback,
      content: { format: c.format, templateVersion: c.templateVersion, bannedTerms: c.bannedTerms, brandRules: c.brandRules, models: c.models, budgets: c.budgets },
    });
    if (result.status === 'budget-exhausted') return { scope: result.scope, used: result.used, limit: result.limit, needed: result.needed };
    if (result.cached) job.totals.cachedCalls++;
    if (result.model !== c.models.primary.name) job.totals.fallbackCalls++;
    if (attempt === 0) job.totals.piiRemoved += result.piiRemoved;
    if (job.moderation !== 'checked') job.moderation = result.moderation;
    feedback = judgeVariants(job, product, result, accepted, attempt);
  }
  return undefined;
}

/** Checks each new variant against the rules and records it; returns the reasons to feed back into the next attempt. */
function judgeVariants(job: GenerationJob, product: ProductFacts, result: Extract<GenerateResult, { status: 'ok' }>, accepted: Set<string>, attempt: number): string[] {
  const last = attempt === job.input.plan.content.maxRegenerations;
  const reasons: string[] = [];
  result.variants.forEach((v, i) => {
    const violations: Violation[] = checkVariant(v, product, job.rules);
    if (result.flagged[i]) violations.push({ rule: 'moderation', detail: 'flagged by the provider\'s moderation' });
    const id = variantId(product.productId, v, shortHash);
    if (accepted.has(id) || job.variants.some((x) => x.variantId === id)) {
      if (!violations.length) reasons.push('a variant repeated an earlier one: write a different angle');
      return;
    }
    const status: VariantRecord['status'] = violations.length === 0 ? 'accepted' : last ? 'review' : 'rejected';
    if (status === 'accepted') accepted.add(id);
    reasons.push(...violations.map((x) => x.detail));
    job.variants.push({ variantId: id, productId: product.productId, headline: v.headline, description: v.description, status, attempt, violations, model: result.model, promptHash: result.promptHash });
  });
  return [...new Set(reasons)];
}
