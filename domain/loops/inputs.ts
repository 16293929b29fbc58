import { z } from 'zod';
import { NonRetryableError } from '../errors';
import { boundedDuration, calendarDate, describeIssues, freeText } from '../validation';
import { parseDriftThresholds, type DriftThresholds } from '../drift';
import { canaryFields, retrainFields, retrainSettingsSchema, type RetrainSettings } from '../plan';
import { loopWindowSchema } from './windows';

/** Who or what started the run (a schedule, a webhook, the CLI): recorded with it, never acted on. */
const trigger = z.looseObject({ kind: z.string().max(100).optional(), via: z.string().max(100).optional() }).optional();

const useCase = z.string().regex(/^[a-z][a-z0-9-]{1,48}[a-z0-9]$/, 'use the use case name of its rollout, e.g. paid-search-cac');
const isoDate = calendarDate;

/** A canary health check as the watch records it; carried across continue-as-new. */
const canaryCheckSchema = z.object({
  healthy: z.boolean(),
  challengerAuc: z.number(),
  championAuc: z.number(),
  users: z.number(),
  converters: z.number().optional(),
});

/** Settings with every default applied, exactly as the run recorded them: no default is filled in again. */
const resolvedRetrainSchema = z.object({
  reason: z.string(),
  settings: z.object({ ...retrainFields, canary: z.object(canaryFields) }),
  continueAsNewAfterChecks: z.number().int().min(1).optional(),
});

/**
 * Set by continue-as-new: where a long canary watch resumes and all it has
 * gathered so far. Fields after watchedMs are absent from watches continued
 * before they were carried.
 */
const resumeSchema = z.object({
  challenger: z.string(),
  champion: z.string(),
  liveFrom: z.string(),
  watchedMs: z.number(),
  /** Audit rows the earlier runs wrote under this workflow id: the next one is auditSeq + 1 */
  auditSeq: z.number().int().min(0).optional(),
  canaryChecks: z.array(canaryCheckSchema).optional(),
  /** Checks that found no live outcomes to judge by */
  checksWithoutOutcomes: z.number().int().min(0).optional(),
  comparison: z.looseObject({ championAuc: z.number(), challengerAuc: z.number(), holdoutRows: z.number() }).optional(),
  window: loopWindowSchema.optional(),
  resolved: resolvedRetrainSchema.optional(),
});

/** Input of the retrain loop (schedules pass { useCase } only; everything else has a default). */
export const retrainInputSchema = z.strictObject({
  useCase,
  asOf: isoDate.optional().describe("Training cut-off; default: the label window ends on the data's newest complete day"),
  reason: freeText({ max: 500, what: 'a reason' }).default('scheduled retrain'),
  waitForData: boundedDuration('365 days')
    .optional()
    .describe("When the window's data has not all landed yet, wait up to this long for it (checked hourly); default: refuse at once"),
  // Unset fields come from the champion's plan (automation.retrain), then the defaults.
  promotionMargin: retrainFields.promotionMargin.optional(),
  approval: retrainFields.approval.optional(),
  approvalTimeout: retrainFields.approvalTimeout.optional(),
  canary: z.strictObject(canaryFields).partial().optional(),
  continueAsNewAfterChecks: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(50)
    .describe('A canary watch continues as new after this many checks in one run (or sooner, when Temporal suggests it)'),
  resume: resumeSchema.optional(),
  trigger,
});
export type RetrainInput = z.input<typeof retrainInputSchema>;
export type RetrainRequest = z.infer<typeof retrainInputSchema>;
export type CanaryWatchState = z.infer<typeof resumeSchema>;
export type ResolvedRetrain = z.infer<typeof resolvedRetrainSchema>;

/** The settings a retrain runs with: its input over the plan's, over the defaults. */
export function retrainSettings(planned: unknown, request: RetrainRequest): RetrainSettings {
  // Plans registered before automation.retrain existed carry none; they get the defaults.
  const base = retrainSettingsSchema.parse(planned ?? {});
  const defined = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
  return {
    ...base,
    ...defined({ promotionMargin: request.promotionMargin, approval: request.approval, approvalTimeout: request.approvalTimeout }),
    canary: { ...base.canary, ...defined(request.canary ?? {}) },
  };
}

/** A retrain's input resolved against the champion's plan: every default applied, for an activity to record. */
export function resolveRetrain(request: RetrainRequest, planned: unknown): ResolvedRetrain {
  return { reason: request.reason, settings: retrainSettings(planned, request), continueAsNewAfterChecks: request.continueAsNewAfterChecks };
}

export const driftInputSchema = z.strictObject({
  useCase,
  asOf: isoDate.optional().describe("End of the current window (exclusive); default: the day after the data's newest complete day"),
  retrainAsOf: isoDate.optional().describe('Training cut-off for a retrain this check starts'),
  thresholds: z
    .strictObject({
      psi: z.number().positive().optional(),
      jsDistance: z.number().positive().optional(),
      ksStatistic: z.number().positive().optional(),
      driftedShare: z.number().min(0).max(1).optional(),
      // How each feature is judged (see domain/drift.ts); checked in full when the settings are resolved.
      wasserstein: z.number().positive().optional(),
      pValue: z.number().positive().max(1).optional(),
      numericMethod: z.string().optional(),
      categoricalMethod: z.string().optional(),
      features: z.record(z.string(), z.strictObject({ method: z.string().optional(), threshold: z.number().positive().optional() })).optional(),
      minRows: z.number().int().min(1).optional(),
      exactKs: z.boolean().optional(),
    })
    .default({}),
  startRetrain: z.boolean().default(true),
  trigger,
});
export type DriftInput = z.input<typeof driftInputSchema>;

export type DriftRequest = z.infer<typeof driftInputSchema>;

/** What a drift check runs with, every default applied (the thresholds' too), for an activity to record. */
export interface ResolvedDrift {
  readonly thresholds: DriftThresholds;
  readonly startRetrain: boolean;
}

/**
 * The drift loop judges numeric features by PSI and categorical ones by Jensen–Shannon unless its input
 * names a method ('auto' picks one per feature from the sample size): a use case's incidents keep meaning
 * what they meant when its checks were scheduled.
 */
export const LOOP_DRIFT_METHODS = { numericMethod: 'psi', categoricalMethod: 'jensenshannon' } as const;

export function resolveDrift(request: DriftRequest): ResolvedDrift {
  return { thresholds: parseDriftThresholds({ ...LOOP_DRIFT_METHODS, ...request.thresholds }), startRetrain: request.startRetrain };
}

export const rollbackInputSchema = z.strictObject({
  useCase,
  toVersion: z.string().regex(/^[a-z0-9-]{1,200}$/, 'use a version id such as paid-search-cac-1a2b3c4d').optional().describe('Default: the previous good version'),
  reason: freeText({ min: 3, max: 2000, what: 'a reason' }),
  by: freeText({ min: 1, max: 200, what: 'who asks for the rollback (by)' }),
  trigger,
});
export type RollbackInput = z.input<typeof rollbackInputSchema>;

/** Parses loop input inside a workflow; the message lists every problem by field. */
export function parseOrProblems<T>(schema: z.ZodType<T>, input: unknown): { ok: true; value: T } | { ok: false; problems: string[] } {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: describeIssues(schema, result.error.issues) };
}

/** Parses input in an activity: invalid input fails non-retryably, naming every field. */
export function parseOrRefuse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const result = parseOrProblems(schema, input);
  if (!result.ok) throw new NonRetryableError('InvalidInput', `The ${what} input is invalid; fix these fields:\n${result.problems.map((p) => `  - ${p}`).join('\n')}`, result.problems);
  return result.value;
}

/** Input of the daily jump check (schedules pass { useCase } only). */
export const jumpCheckInputSchema = z.strictObject({
  useCase,
  day: isoDate.optional().describe("The day judged; default: the data's newest complete day"),
  // Checked in full (and defaults applied) when the activity resolves them, so the history holds them.
  settings: z.record(z.string(), z.unknown()).optional().describe('Detector settings: weeks, minWeeks, sigmas, minRelativeChange (docs/metrics.md)'),
  trigger,
});
export type JumpCheckRequest = z.output<typeof jumpCheckInputSchema>;
