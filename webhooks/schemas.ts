import { z } from 'zod';
import { ALERT_KINDS, SEVERITIES } from '../config/webhooks';
import { approvalDecisionSchema } from '../domain/rollout/approval';
import { rollbackInputSchema } from '../domain/loops/inputs';
import { rolloutPlanSchema } from '../domain/plan';
import { describeIssues, freeText } from '../domain/validation';

/**
 * Request bodies of the webhook endpoints. They are the contract senders
 * code against: the OpenAPI document is generated from these schemas.
 */

const useCase = rolloutPlanSchema.shape.useCase;
const isoDateTime = z.iso.datetime({ offset: true, message: 'use an ISO 8601 date-time, e.g. 2026-03-31T04:10:00Z' });

export const dataLandedSchema = z
  .strictObject({
    useCase: useCase.describe('The use case whose data landed'),
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}(\.[A-Za-z_][A-Za-z0-9_]{0,127}){0,2}$/, 'use a table name such as raw.orders')
      .optional()
      .describe('The table that was loaded'),
    landedAt: isoDateTime.describe('When the load finished'),
  })
  .describe('Fresh data landed: start a retrain');

export const alertSchema = z
  .strictObject({
    useCase: useCase.describe('The use case the alert is about'),
    kind: z.enum(ALERT_KINDS, { message: `kind must be one of ${ALERT_KINDS.join(', ')}` }),
    severity: z.enum(SEVERITIES, { message: `severity must be one of ${SEVERITIES.join(', ')}` }),
    message: freeText({ max: 2000, what: 'a message' }).optional().describe('What the monitor saw'),
    firedAt: isoDateTime.optional(),
  })
  .describe('A monitoring alert: the alert policy decides on a drift check, a rollback or nothing');

export const approvalRequestSchema = approvalDecisionSchema
  .extend({
    workflowId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,400}$/, 'give the id of the waiting rollout, e.g. rollout-paid-search-cac-2026-11-28')
      .describe('The rollout waiting for a decision'),
  })
  .describe('A decision at the approval gate a rollout is waiting at');

/** The rollback workflow's own input schema: what the endpoint accepts is exactly what the workflow takes. */
export const rollbackRequestSchema = rollbackInputSchema.describe('Move serving back to a previous model version');

export type DataLanded = z.infer<typeof dataLandedSchema>;
export type Alert = z.infer<typeof alertSchema>;
export type ApprovalRequest = z.infer<typeof approvalRequestSchema>;
export type RollbackRequest = z.infer<typeof rollbackRequestSchema>;

/** What the webhook server passes to the workflows it starts (their first and only argument). */
/** Who asked for the run: a signed webhook (source + delivery id) or the CLI (source "cli"). */
export interface WebhookTrigger {
  readonly via: 'webhook' | 'cli';
  readonly endpoint: string;
  readonly source: string;
  readonly deliveryId: string;
}
export interface RetrainInput {
  readonly useCase: string;
  /** Recorded in the retrain's audit log */
  readonly reason: string;
  readonly trigger: WebhookTrigger & { kind: 'data-landed'; table?: string; landedAt: string };
}
export interface DriftCheckInput {
  readonly useCase: string;
  readonly trigger: WebhookTrigger & { kind: 'alert'; alert: Alert };
}
export interface RollbackInput {
  readonly useCase: string;
  readonly toVersion?: string;
  readonly reason: string;
  readonly by: string;
  readonly trigger: WebhookTrigger & { kind: 'rollback' | 'alert'; alert?: Alert };
}

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export function validate<T>(schema: z.ZodType<T>, input: unknown): Validated<T> {
  const result = schema.safeParse(input);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: describeIssues(schema, result.error.issues, '(body)') };
}
