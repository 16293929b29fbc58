import { z } from 'zod';

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
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date, e.g. 2026-03-31');
/** Temporal durations as people write them: "14 days", "30 seconds", "2h" */
export const durationText = z
  .string()
  .regex(
    /^\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)$/,
    'use a duration such as "14 days", "30 seconds" or "6h"',
  );

export const KPI_METRICS = ['cac', 'conversion_rate', 'roas', 'mer', 'clv', 'contribution_margin'] as const;
export const CHANNELS = ['paid_search', 'paid_social', 'email', 'organic', 'display'] as const;

const kpiSchema = z.object({
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
  guardrailMetrics: z.array(z.enum(KPI_METRICS)).default([]).describe('KPIs that must not get worse'),
});

const sourcesSchema = z
  .object({
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

const inventorySchema = z.object({
  maxNullRate: z.number().min(0).max(1).default(0.05).describe('Above this null rate of a key column the source is blocking'),
  maxDuplicateRate: z.number().min(0).max(1).default(0.02).describe('Above this duplicate-key rate the source is blocking'),
  maxStalenessHours: z.number().positive().default(72).describe('Newest row older than this (before asOf) is a warning'),
  minConsentCoverage: z.number().min(0).max(1).default(0.5).describe('Share of users with marketing consent needed'),
  minIdentityMatchRate: z.number().min(0).max(1).default(0.5).describe('Share of users with a CRM identity needed'),
});

const windowsSchema = z.object({
  asOf: isoDate.describe('Training cut-off: features before it, labels after it'),
  featureDays: z.number().int().min(7).max(365).default(56),
  labelDays: z.number().int().min(1).max(90).default(14),
});

const modelSchema = z.object({
  l2: z.number().min(0).max(1000).default(1).describe('L2 penalty of the logistic regression'),
  holdoutShare: z.number().min(0.05).max(0.5).default(0.3),
});

const guardrailsSchema = z.object({
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

const approvalSchema = z.object({
  beforeExperiment: z.boolean().default(false).describe('Wait for a person before the experiment starts'),
  timeout: durationText.default('3 days').describe('How long to wait for a decision'),
  onTimeout: z.enum(['reject', 'approve']).default('reject'),
});

const experimentSchema = z.object({
  treatmentShare: z.number().min(0.05).max(0.95).default(0.5),
  duration: durationText.default('14 days').describe('How long the experiment runs (seconds in demos)'),
  checkEvery: durationText.default('1 day').describe('Cadence of interim checks (SRM)'),
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
});

const alertRouteSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('log') }),
  z.object({ kind: z.literal('webhook'), url: z.url({ message: 'use an http(s) URL' }) }),
]);

/** The retrain's knobs without defaults, so an override can say only what it changes. */
export const retrainFields = {
  promotionMargin: z.number().min(0).max(0.5).describe('AUC the challenger must gain over the champion'),
  approval: z.boolean().describe('Wait for a person before the canary'),
  approvalTimeout: durationText.describe('How long to wait for that decision (then reject)'),
};
export const canaryFields = {
  share: z.number().min(0.01).max(0.5).describe('Share of users the challenger serves during its canary'),
  watch: durationText.describe('How long the canary is watched'),
  checkEvery: durationText.describe('Cadence of its health checks'),
  liveDays: z.number().int().min(1).max(90).describe('Days of live outcomes the health check reads'),
  maxAucDrop: z.number().min(0).max(0.5).describe('How much worse than the champion the canary may rank'),
};

/** How this use case's retrains decide; a retrain's own input can override any field. */
export const retrainSettingsSchema = z.object({
  promotionMargin: retrainFields.promotionMargin.default(0),
  approval: retrainFields.approval.default(false),
  approvalTimeout: retrainFields.approvalTimeout.default('2 days'),
  canary: z
    .object({
      share: canaryFields.share.default(0.1),
      watch: canaryFields.watch.default('3 days'),
      checkEvery: canaryFields.checkEvery.default('1 day'),
      liveDays: canaryFields.liveDays.default(14),
      maxAucDrop: canaryFields.maxAucDrop.default(0.02),
    })
    .prefault({}),
});
export type RetrainSettings = z.infer<typeof retrainSettingsSchema>;

const automationSchema = z.object({
  retrainEvery: z.string().min(1).default('0 3 * * 1').describe('Cron for the retrain loop (default weekly)'),
  driftEvery: z.string().min(1).default('0 2 * * *').describe('Cron for the drift check (default daily)'),
  alertRoutes: z.array(alertRouteSchema).default([{ kind: 'log' }]),
  retrain: retrainSettingsSchema.prefault({}).describe('How retrains of this use case decide (scheduled ones and those a drift incident starts)'),
});

const scaleTargetSchema = z.object({
  channel: z.enum(CHANNELS).optional(),
  market: z.string().regex(/^[A-Z]{2}$/, 'use a two-letter market code').optional(),
});

const scaleSchema = z.object({
  targets: z.array(scaleTargetSchema).max(50).default([]).describe('Further channels/markets to roll out to once proven; each runs as its own use case, <useCase>-<channel>-<market>'),
  maxConcurrent: z.number().int().min(1).max(20).default(2),
});

export const rolloutPlanSchema = z.object({
  useCase: slug.describe('Name of the use case, e.g. paid-search-cac'),
  kind: z.literal('propensity').default('propensity'),
  owner: z.string().min(1).max(200).optional().describe('Team or person accountable'),
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

export type PlanCheck = { ok: true; plan: RolloutPlan } | { ok: false; problems: string[] };

/** Every problem, by field path, with what to do about it. */
export function checkPlan(input: unknown): PlanCheck {
  if (typeof input === 'string') {
    try {
      input = JSON.parse(input);
    } catch {
      return { ok: false, problems: ['(plan): is not valid JSON: paste one JSON object'] };
    }
  }
  const result = rolloutPlanSchema.safeParse(input);
  if (result.success) return { ok: true, plan: result.data };
  return { ok: false, problems: result.error.issues.map(formatIssue) };
}

export function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map(String).join('.') : '(plan)';
  return `${path}: ${issue.message}`;
}
