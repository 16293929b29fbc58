import { z } from 'zod';
import { durationToMs } from './duration';
import { isCron } from './cron';
import { boundedDuration, calendarDate, describeIssues, freeText } from './validation';

/**
 * The rollout plan: exactly what a person pastes into the Temporal UI's start
 * form. Validated inside the workflow (pure code, deterministic) and at every
 * other edge (webhooks, CLI). Every field has a description, which the
 * generated docs/plan-schema.md shows.
 */
const slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,48}[a-z0-9]$/, 'use lower-case letters, digits and hyphens, 3–50 characters, starting with a letter');
const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be a SQL identifier: letters, digits, underscores');
const isoDate = calendarDate;
/** Temporal durations as people write them ("14 days", "30 seconds", "2h"): longer than zero, at most a year */
export const durationText = boundedDuration('365 days');
/** A person is given at most a month to decide at a gate */
const decisionTimeout = boundedDuration('30 days');
const DURATION_OK = (text: string) => durationText.safeParse(text).success;
/** A cron expression Temporal's schedules accept: five fields (or a 6-field one with seconds), checked by a cron parser */
const cronText = z.string().refine(isCron, 'use a cron expression with 5 fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * 1"');

export const KPI_METRICS = ['cac', 'conversion_rate', 'roas', 'mer', 'clv', 'contribution_margin'] as const;
export const CHANNELS = ['paid_search', 'paid_social', 'email', 'organic', 'display'] as const;
/** What an experiment can hold a guardrail on: the KPIs, plus per-user metrics only an experiment measures */
export const GUARDRAIL_METRICS = [...KPI_METRICS, 'return_rate', 'revenue_per_user'] as const;

const kpiSchema = z.strictObject({
  metric: z.enum(KPI_METRICS).describe('The KPI to move'),
  channel: z.enum(CHANNELS).describe('Marketing channel of the use case'),
  market: z.string().regex(/^[A-Z]{2}$/, 'use a two-letter market code, e.g. DE').describe('Market (country code)'),
  targetChange: z
    .number()
    .min(-1)
    .max(10)
    .refine((v) => v !== 0, 'a target change of 0 is no goal: e.g. -0.15 for -15 %')
    .describe('Relative change wanted, e.g. -0.15 for -15 % CAC'),
  deadline: isoDate.describe('Date by which the target should be reached'),
  baselineDays: z.number().int().min(7).max(365).default(28).describe('Days of history the baseline is measured over'),
  guardrailMetrics: z
    .array(z.enum(GUARDRAIL_METRICS))
    .default([])
    .describe('Metrics the experiment must not make significantly worse by more than experiment.guardrailTolerance (see docs/experiments.md)'),
});

const sourcesSchema = z
  .strictObject({
    schema: identifier.default('raw').describe('Schema (DuckDB/Snowflake) or dataset (BigQuery) of the sources'),
    users: identifier.default('users'),
    identities: identifier.default('identities'),
    consent: identifier.default('consent'),
    sessions: identifier.default('sessions'),
    events: identifier.default('events'),
    orders: identifier.default('orders'),
    spend: identifier.default('ad_spend'),
  })
  .describe('Where the source tables live');

const inventorySchema = z.strictObject({
  maxNullRate: z.number().min(0).max(1).default(0.05).describe('Above this null rate of a key column the source is blocking'),
  maxDuplicateRate: z.number().min(0).max(1).default(0.02).describe('Above this duplicate-key rate the source is blocking'),
  maxStalenessHours: z.number().positive().default(72).describe('Newest row older than this (before asOf) is a warning'),
  minConsentCoverage: z.number().min(0).max(1).default(0.5).describe('Share of users with marketing consent needed'),
  minIdentityMatchRate: z.number().min(0).max(1).default(0.5).describe('Share of users with a CRM identity needed'),
});

const windowsSchema = z.strictObject({
  asOf: isoDate.describe('Training cut-off: features before it, labels after it'),
  featureDays: z.number().int().min(7).max(365).default(56),
  labelDays: z.number().int().min(1).max(90).default(14),
});

const modelSchema = z.strictObject({
  l2: z.number().min(0).max(1000).default(1).describe('L2 penalty of the logistic regression'),
  holdoutShare: z.number().min(0.05).max(0.5).default(0.3),
});

const guardrailsSchema = z.strictObject({
  maxNullRate: z.number().min(0).max(1).default(0.01).describe('Data quality: nulls allowed in feature tables'),
  minAuc: z.number().min(0.5).max(1).default(0.6),
  maxBrier: z.number().min(0).max(1).default(0.25),
  fairnessSegment: identifier.default('segment').describe('Column whose groups must be treated alike'),
  maxFairnessGap: z.number().min(0).max(1).default(0.1).describe('Largest AUC gap allowed between segment groups'),
  maxRowsScanned: z.number().int().positive().default(500_000_000).describe('Cost budget: rows the data path may scan'),
  maxBytesScanned: z.number().int().positive().optional().describe('Cost budget per query (BigQuery bytes billed)'),
  maxStepSeconds: z.number().positive().default(900).describe('Latency budget for each data step'),
  onFailure: z.enum(['stop', 'approval']).default('stop').describe('Stop the rollout, or wait for a person to approve'),
});

const approvalSchema = z.strictObject({
  beforeExperiment: z.boolean().default(false).describe('Wait for a person before the experiment starts'),
  timeout: decisionTimeout.default('3 days').describe('How long to wait for a decision (at most 30 days)'),
  onTimeout: z.enum(['reject', 'approve']).default('reject'),
});

const experimentSchema = z.strictObject({
  treatmentShare: z.number().min(0.05).max(0.95).default(0.5),
  duration: durationText.default('14 days').describe('How long the experiment runs (seconds in demos)'),
  checkEvery: durationText.default('1 day').describe('Cadence of interim checks: SRM, and with analysis "sequential" an interim look that may stop the test'),
  startDate: isoDate.optional().describe('First day of the outcome window (default: the day the experiment starts)'),
  measureDays: z.number().int().min(1).max(90).default(14).describe('Days of outcomes the readout measures'),
  costPerTreatedUser: z.number().min(0).default(0.4).describe('Media cost of treating one user, for cost per result'),
  shipRule: z
    .enum(['ci_excludes_zero', 'point_estimate_positive'])
    .default('ci_excludes_zero')
    .describe('Ship when the 95 % CI of the uplift is above zero, or when the estimate is'),
  outcomeSource: z
    .enum(['warehouse', 'simulator'])
    .default('warehouse')
    .describe('Outcomes land in the warehouse by your ETL; "simulator" lets the built-in market simulator produce them'),
  design: z
    .enum(['ab', 'geo'])
    .default('ab')
    .describe('"ab" randomises users; "geo" randomises regions (matched pairs) where users cannot be randomised'),
  analysis: z
    .enum(['fixed', 'sequential'])
    .default('fixed')
    .describe('"fixed": one readout at the end; "sequential": group-sequential boundaries (O\'Brien–Fleming alpha spending) at every interim check, stopping early for a win or for harm'),
  alpha: z.number().min(0.001).max(0.2).default(0.05).describe('Two-sided error rate of the readout; its intervals have confidence 1 − alpha'),
  power: z.number().min(0.5).max(0.99).default(0.8).describe('Power the design must reach at the minimum detectable effect'),
  minimumDetectableEffect: z
    .number()
    .positive()
    .max(10)
    .optional()
    .describe('Relative conversion lift the test must detect, e.g. 0.1 for +10 %; default: what the KPI target asks (cac −15 % → +17.6 % conversions at the same cost)'),
  onUnderpowered: z
    .enum(['proceed', 'approval', 'stop'])
    .default('proceed')
    .describe('When the design cannot reach the power in measureDays: go on (the report says so), wait for a person at the "experiment-power" gate, or stop'),
  cuped: z
    .strictObject({
      enabled: z.boolean().default(true).describe('Adjust the readout with each user\'s pre-period value of the same metric (CUPED)'),
      preDays: z.number().int().min(7).max(180).default(28).describe('Days before the outcome window the covariate is measured over'),
    })
    .prefault({})
    .describe('Variance reduction with a pre-period covariate'),
  guardrailTolerance: z
    .number()
    .min(0)
    .max(1)
    .default(0.05)
    .describe('A guardrail metric fails when its interval lies entirely beyond this relative worsening of the control value'),
  guardrailTolerances: z
    .partialRecord(z.enum(GUARDRAIL_METRICS), z.number().min(0).max(1))
    .default({})
    .describe('Tolerance per guardrail metric, overriding guardrailTolerance'),
  aaCheck: z
    .boolean()
    .default(false)
    .describe('Before assigning, re-randomise the eligible users many times over the pre-period and check the readout\'s false-positive rate'),
  geo: z
    .strictObject({
      regionsTable: identifier.default('user_regions').describe('Table (in sources.schema) mapping user_id to region and market'),
      minRegions: z.number().int().min(12).max(1000).default(12).describe('Fewest regions of the market a geo test needs: 6 pairs are the fewest whose randomisation test can reach 95 %'),
      permutations: z.number().int().min(200).max(100_000).default(4096).describe('Sign flips of the randomisation test (all of them when fewer)'),
    })
    .prefault({})
    .describe('Geo experiments: regions are paired by their pre-period outcome, one of each pair treated'),
}).superRefine((e, ctx) => {
  // A check every 0 ms never advances, and one less often than the test lasts never looks.
  if (DURATION_OK(e.checkEvery) && DURATION_OK(e.duration) && durationToMs(e.checkEvery) > durationToMs(e.duration)) {
    ctx.addIssue({ code: 'custom', path: ['checkEvery'], message: `check at most as often as the experiment lasts (${e.duration}): e.g. "1 day"` });
  }
});

const alertRouteSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('log') }),
  z.strictObject({ kind: z.literal('webhook'), url: z.url({ message: 'use an http(s) URL' }) }),
]);

/** The retrain's knobs without defaults, so an override can say only what it changes. */
export const retrainFields = {
  promotionMargin: z.number().min(0).max(0.5).describe('AUC the challenger must gain over the champion'),
  approval: z.boolean().describe('Wait for a person before the canary'),
  approvalTimeout: decisionTimeout.describe('How long to wait for that decision (then reject; at most 30 days)'),
};
export const canaryFields = {
  share: z.number().min(0.01).max(0.5).describe('Share of users the challenger serves during its canary'),
  watch: durationText.describe('How long the canary is watched'),
  checkEvery: durationText.describe('Cadence of its health checks'),
  liveDays: z.number().int().min(1).max(90).describe('Days of live outcomes the health check reads'),
  maxAucDrop: z.number().min(0).max(0.5).describe('How much worse than the champion the canary may rank'),
};

/** How this use case's retrains decide; a retrain's own input can override any field. */
export const retrainSettingsSchema = z.strictObject({
  promotionMargin: retrainFields.promotionMargin.default(0),
  approval: retrainFields.approval.default(false),
  approvalTimeout: retrainFields.approvalTimeout.default('2 days'),
  canary: z
    .strictObject({
      share: canaryFields.share.default(0.1),
      watch: canaryFields.watch.default('3 days'),
      checkEvery: canaryFields.checkEvery.default('1 day'),
      liveDays: canaryFields.liveDays.default(14),
      maxAucDrop: canaryFields.maxAucDrop.default(0.02),
    })
    .superRefine((c, ctx) => {
      if (DURATION_OK(c.checkEvery) && DURATION_OK(c.watch) && durationToMs(c.checkEvery) > durationToMs(c.watch)) {
        ctx.addIssue({ code: 'custom', path: ['checkEvery'], message: `check the canary at most as often as it is watched (${c.watch})` });
      }
    })
    .prefault({}),
});
export type RetrainSettings = z.infer<typeof retrainSettingsSchema>;

const automationSchema = z.strictObject({
  retrainEvery: cronText.default('0 3 * * 1').describe('Cron for the retrain loop (default weekly)'),
  driftEvery: cronText.default('0 2 * * *').describe('Cron for the drift check (default daily)'),
  alertRoutes: z.array(alertRouteSchema).default([{ kind: 'log' }]),
  retrain: retrainSettingsSchema.prefault({}).describe('How retrains of this use case decide (scheduled ones and those a drift incident starts)'),
});

const scaleTargetSchema = z.strictObject({
  channel: z.enum(CHANNELS).optional(),
  market: z.string().regex(/^[A-Z]{2}$/, 'use a two-letter market code').optional(),
});

const scaleSchema = z.strictObject({
  targets: z.array(scaleTargetSchema).max(50).default([]).describe('Further channels/markets to roll out to once proven; each runs as its own use case, <useCase>-<channel>-<market>'),
  maxConcurrent: z.number().int().min(1).max(20).default(2),
});

export const rolloutPlanSchema = z.strictObject({
  useCase: slug.describe('Name of the use case, e.g. paid-search-cac'),
  kind: z.literal('propensity').default('propensity'),
  owner: freeText({ min: 1, max: 200, what: 'an owner' }).optional().describe('Team or person accountable'),
  kpi: kpiSchema,
  sources: sourcesSchema.default(sourcesSchema.parse({})),
  inventory: inventorySchema.default(inventorySchema.parse({})),
  windows: windowsSchema,
  model: modelSchema.default(modelSchema.parse({})),
  guardrails: guardrailsSchema.default(guardrailsSchema.parse({})),
  approval: approvalSchema.default(approvalSchema.parse({})),
  experiment: experimentSchema.default(experimentSchema.parse({})),
  automation: automationSchema.default(automationSchema.parse({})),
  scale: scaleSchema.default(scaleSchema.parse({})),
});

export type RolloutPlan = z.infer<typeof rolloutPlanSchema>;
export type RolloutPlanInput = z.input<typeof rolloutPlanSchema>;

/* ---------------------------------------------------------------------------
 * The content use case: the same rollout, whose baseline step is a prompt
 * workflow (grounded creative variants) instead of a propensity model, and
 * whose experiment is a multi-armed bandit over the accepted variants.
 * ------------------------------------------------------------------------- */

export const CONTENT_METRICS = ['ctr', 'conversion_rate'] as const;
export const CONTENT_FORMATS = ['search_ad'] as const;

const contentKpiSchema = z.strictObject({
  metric: z.enum(CONTENT_METRICS).default('ctr').describe('The KPI the creatives move (click-through rate by default)'),
  channel: z.enum(CHANNELS).describe('Marketing channel of the creatives'),
  market: z.string().regex(/^[A-Z]{2}$/, 'use a two-letter market code, e.g. DE').describe('Market (country code)'),
  targetChange: z
    .number()
    .min(-1)
    .max(10)
    .refine((v) => v !== 0, 'a target change of 0 is no goal: e.g. 0.1 for +10 % CTR')
    .describe('Relative change wanted over the incumbent creative, e.g. 0.1 for +10 % CTR'),
  deadline: isoDate.describe('Date by which the target should be reached'),
  baselineDays: z.number().int().min(1).max(365).default(28).describe('Days of incumbent-creative history the baseline is measured over'),
});

const modelPriceSchema = z.strictObject({
  name: z.string().min(1).max(100).describe('Model name as the OpenAI-compatible endpoint knows it'),
  inputPerMillion: z.number().min(0).default(0).describe('Price of one million prompt tokens (for cost per accepted asset)'),
  outputPerMillion: z.number().min(0).default(0).describe('Price of one million completion tokens'),
});

const contentBudgetSchema = z.strictObject({
  tokensPerJob: z.number().int().positive().default(20_000).describe('Token budget of one generation job; checked before every call'),
  tokensPerDay: z.number().int().positive().default(200_000).describe('Token budget of the use case per calendar day (UTC); checked before every call'),
});

const contentModelsSchema = z.strictObject({
  primary: modelPriceSchema.describe('The model asked first'),
  fallback: modelPriceSchema.optional().describe('Asked when the primary fails (rate limit, server error, unparseable output)'),
  maxOutputTokens: z.number().int().min(50).max(8000).default(700).describe('Completion tokens allowed per call'),
  temperature: z.number().min(0).max(2).default(0.7),
});

const banditSchema = z.strictObject({
  outcomeSource: z
    .enum(['warehouse', 'simulator'])
    .default('warehouse')
    .describe('Impressions and clicks per variant land in content.outcomesTable by your ETL; "simulator" lets the built-in simulator produce them'),
  cadence: durationText.default('1 day').describe('How often allocations are recomputed from fresh outcomes'),
  burnInImpressions: z.number().int().min(0).default(1000).describe('Impressions every variant gets before Thompson sampling steers traffic'),
  minShare: z.number().min(0).max(0.5).default(0.05).describe('Smallest traffic share any live variant keeps'),
  winnerProbability: z.number().min(0.5).max(0.9999).default(0.95).describe('Declare a winner once its posterior probability of being best reaches this'),
  maxRounds: z.number().int().min(1).max(1000).default(60).describe('Stop after this many rounds even without a winner'),
  impressionsPerRound: z.number().int().min(10).max(10_000_000).default(2000).describe('Simulator only: traffic per round'),
});

const contentSchema = z
  .strictObject({
    format: z.enum(CONTENT_FORMATS).default('search_ad').describe('Creative format: search ads have 30-character headlines and 90-character descriptions'),
    products: z.array(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'use product ids of letters, digits, _ and -')).min(1).max(200).describe('Product ids to write creatives for'),
    productsTable: identifier.default('products').describe('Table (in sources.schema) with product facts: id, name, price, currency, margin, stock, allowed_claims, description'),
    outcomesTable: identifier.default('content_outcomes').describe('Table (in sources.schema) with experiment_id, arm_id, period, impressions, clicks'),
    historyTable: identifier.default('content_history').describe('Table (in sources.schema) with the incumbent creative\'s day, impressions, clicks'),
    templateVersion: z.string().regex(/^[a-z0-9-]+@\d+$/, 'use a template name and version, e.g. search-ad@2').default('search-ad@2').describe('Versioned prompt template'),
    variantsPerProduct: z.number().int().min(1).max(10).default(3),
    maxRegenerations: z.number().int().min(0).max(5).default(2).describe('Regenerations of a failing variant before it goes to human review'),
    budgets: contentBudgetSchema.default(contentBudgetSchema.parse({})),
    models: contentModelsSchema,
    bannedTerms: z.array(z.string().min(2).max(60)).max(200).default([]).describe('Words and phrases no creative may contain (case-insensitive)'),
    brandRules: z
      .strictObject({
        brandName: z.string().min(1).max(60).optional().describe('Spelling of the brand, enforced where it appears'),
        maxExclamationMarks: z.number().int().min(0).max(3).default(1),
        allowAllCapsWords: z.boolean().default(false).describe('Allow shouting words such as "SALE" (acronyms of up to 3 letters are fine)'),
      })
      .default({ maxExclamationMarks: 1, allowAllCapsWords: false }),
    bandit: banditSchema.default(banditSchema.parse({})),
    llmTaskQueue: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a task queue name').optional().describe('Task queue of the rate-limited LLM worker (default: the rollout\'s queue + "-llm")'),
  })
  .describe('The content factory: products, prompts, guardrails, budgets and the bandit');

export const contentPlanSchema = z.strictObject({
  useCase: slug.describe('Name of the use case, e.g. search-ad-content'),
  kind: z.literal('content').describe('A content use case: creative variants instead of a propensity model'),
  owner: freeText({ min: 1, max: 200, what: 'an owner' }).optional().describe('Team or person accountable'),
  kpi: contentKpiSchema,
  sources: z
    .strictObject({ schema: identifier.default('raw').describe('Schema (DuckDB/Snowflake) or dataset (BigQuery) of the content tables') })
    .default({ schema: 'raw' }),
  content: contentSchema,
  approval: approvalSchema.default(approvalSchema.parse({})),
});

export type ContentPlan = z.infer<typeof contentPlanSchema>;
export type ContentPlanInput = z.input<typeof contentPlanSchema>;
export type AnyRolloutPlan = RolloutPlan | ContentPlan;

export function isPropensityPlan(plan: { readonly kind: string }): plan is RolloutPlan {
  return plan.kind === 'propensity';
}

/** Either kind of plan; a plan without `kind` is a propensity plan, as before there were kinds. */
export const anyRolloutPlanSchema = z.preprocess(
  (value) => (value && typeof value === 'object' && !Array.isArray(value) && !('kind' in value) ? { ...value, kind: 'propensity' } : value),
  z.discriminatedUnion('kind', [rolloutPlanSchema, contentPlanSchema], { error: 'use "propensity" (the default) or "content"' }),
);

export type PlanCheck = { ok: true; plan: AnyRolloutPlan } | { ok: false; problems: string[] };

/** Every problem, by field path, with what to do about it. */
export function checkPlan(input: unknown): PlanCheck {
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input);
    } catch {
      return { ok: false, problems: ['(plan): is not valid JSON: paste one JSON object'] };
    }
  }
  const result = anyRolloutPlanSchema.safeParse(input);
  if (result.success) return { ok: true, plan: result.data };
  const schema = planKindOf(input) === 'content' ? contentPlanSchema : rolloutPlanSchema;
  return { ok: false, problems: describeIssues(schema, result.error.issues, '(plan)') };
}

function planKindOf(input: unknown): string | undefined {
  return input && typeof input === 'object' && 'kind' in input ? String((input as { kind: unknown }).kind) : undefined;
}

/**
 * The plan with every field the schema does not know removed: how plans were
 * read before unknown fields were refused. Rollouts started then replay with it.
 */
export function withoutUnknownFields(input: unknown): unknown {
  if (!input || typeof input !== 'object') return input;
  // A JSON copy: plans are JSON, and the workflow sandbox has no structuredClone.
  const copy = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
  for (let pass = 0; pass < 20; pass++) {
    const result = anyRolloutPlanSchema.safeParse(copy);
    const unknown = result.success ? [] : result.error.issues.filter((i) => i.code === 'unrecognized_keys');
    if (unknown.length === 0) return copy;
    for (const issue of unknown) {
      let node: unknown = copy;
      for (const segment of issue.path) node = node && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[segment as PropertyKey] : undefined;
      if (node && typeof node === 'object') for (const key of issue.keys) delete (node as Record<string, unknown>)[key];
    }
  }
  return copy;
}
