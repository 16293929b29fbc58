import { z } from 'zod';
import { canaryFields, retrainFields, retrainSettingsSchema, type RetrainSettings } from '../plan';

const useCase = z.string().regex(/^[a-z][a-z0-9-]{1,48}[a-z0-9]$/, 'use the use case name of its rollout, e.g. paid-search-cac');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date, e.g. 2026-03-31');

/** Input of the retrain loop (schedules pass { useCase } only; everything else has a default). */
export const retrainInputSchema = z.object({
  useCase,
  asOf: isoDate.optional().describe('Training cut-off; default: today minus the label window'),
  reason: z.string().max(500).default('scheduled retrain'),
  // Unset fields come from the champion's plan (automation.retrain), then the defaults.
  promotionMargin: retrainFields.promotionMargin.optional(),
  approval: retrainFields.approval.optional(),
  approvalTimeout: retrainFields.approvalTimeout.optional(),
  canary: z.object(canaryFields).partial().optional(),
  /** Set by continue-as-new: where a long canary watch resumes */
  resume: z
    .object({ challenger: z.string(), champion: z.string(), liveFrom: z.string(), watchedMs: z.number() })
    .optional(),
});
export type RetrainInput = z.input<typeof retrainInputSchema>;
export type RetrainRequest = z.infer<typeof retrainInputSchema>;

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

export const driftInputSchema = z.object({
  useCase,
  asOf: isoDate.optional().describe('End of the current window; default: today'),
  retrainAsOf: isoDate.optional().describe('Training cut-off for a retrain this check starts'),
  thresholds: z
    .object({
      psi: z.number().positive().optional(),
      jsDistance: z.number().positive().optional(),
      ksStatistic: z.number().positive().optional(),
      driftedShare: z.number().min(0).max(1).optional(),
    })
    .default({}),
  startRetrain: z.boolean().default(true),
});
export type DriftInput = z.input<typeof driftInputSchema>;

export const rollbackInputSchema = z.object({
  useCase,
  toVersion: z.string().min(1).max(200).optional().describe('Default: the previous good version'),
  reason: z.string().trim().min(3, 'give a reason of at least 3 characters').max(2000),
  by: z.string().trim().min(1, 'say who asks for the rollback (by)').max(200),
});
export type RollbackInput = z.input<typeof rollbackInputSchema>;

/** Parses loop input inside a workflow; the message lists every problem by field. */
export function parseOrProblems<T>(schema: z.ZodType<T>, input: unknown): { ok: true; value: T } | { ok: false; problems: string[] } {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(input)'}: ${i.message}`) };
}
