import { ApplicationFailure, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { rolloutTablePrefix } from '../../domain/naming';
import { parseOrProblems } from '../../domain/loops/inputs';
import type { RolloutContext } from '../../domain/rollout/context';
import type { z } from 'zod';
import { quickActivities } from '../activity-proxies';
import { STATUS, STEP, USE_CASE } from '../../domain/rollout/definitions';

/** Validates a loop's input inside the workflow; invalid input fails at once, naming every field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = parseOrProblems(schema, input);
  if (parsed.ok) return parsed.value;
  throw ApplicationFailure.create({
    type: 'InvalidInput',
    nonRetryable: true,
    message: `The ${what} input is invalid; fix these fields:\n${parsed.problems.map((p) => `  - ${p}`).join('\n')}`,
    details: [{ problems: parsed.problems }],
  });
}

export function loopContext(useCase: string): RolloutContext {
  const { workflowId } = workflowInfo();
  return { workflowId, useCase, tablePrefix: rolloutTablePrefix(useCase, workflowId) };
}

/** Search attributes and memo, so the UI's list shows where every loop is. */
export function publish(useCase: string, step: string, status: string, summary?: string): void {
  upsertSearchAttributes([
    { key: USE_CASE, value: useCase },
    { key: STEP, value: step },
    { key: STATUS, value: status },
  ]);
  if (summary) upsertMemo({ summary });
}

/** An audit writer with its own sequence, keyed by this workflow's id. */
export function auditTrail(ctx: RolloutContext) {
  let seq = 0;
  return (step: string, decision: string, reason: string, actor = 'aimo', details: Record<string, unknown> = {}) =>
    quickActivities.recordAudit({ ctx, seq: ++seq, step, decision, actor, reason, details, at: new Date().toISOString() });
}
