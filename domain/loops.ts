import { z } from 'zod';
import { durationText } from './plan';

const useCase = z.string().regex(/^[a-z][a-z0-9-]{1,48}[a-z0-9]$/, 'use the use case name of its rollout, e.g. paid-search-cac');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date, e.g. 2026-03-31');

/** Input of the retrain loop (schedules pass { useCase } only; everything else has a default). */
export const retrainInputSchema = z.object({
  useCase,
  asOf: isoDate.optional().describe('Training cut-off; default: today minus the label window'),
  reason: z.string().max(500).default('scheduled retrain'),
  promotionMargin: z.number().min(0).max(0.5).default(0).describe('AUC the challenger must gain over the champion'),
  approval: z.boolean().default(false).describe('Wait for a person before the canary'),
  approvalTimeout: durationText.default('2 days'),
  canary: z
    .object({
      share: z.number().min(0.01).max(0.5).default(0.1),
      watch: durationText.default('3 days').describe('How long the canary is watched'),
      checkEvery: durationText.default('1 day'),
      liveDays: z.number().int().min(1).max(90).default(14).describe('Days of live outcomes the health check reads'),
      maxAucDrop: z.number().min(0).max(0.5).default(0.02).describe('How much worse than the champion the canary may rank'),
    })
    .default({ share: 0.1, watch: '3 days', checkEvery: '1 day', liveDays: 14, maxAucDrop: 0.02 }),
  /** Set by continue-as-new: where a long canary watch resumes */
  resume: z
    .object({ challenger: z.string(), champion: z.string(), liveFrom: z.string(), watchedMs: z.number() })
    .optional(),
});
export type RetrainInput = z.input<typeof retrainInputSchema>;
export type RetrainRequest = z.infer<typeof retrainInputSchema>;

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
