import { ApplicationFailure, patched, setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { renderLoopDetails, type LoopStage } from '../../domain/rollout/details';
import { legacyTablePrefix, NAMES_64_BIT, rolloutTablePrefix } from '../../domain/naming';
import { parseOrProblems } from '../../domain/loops/inputs';
import type { RolloutContext } from '../../domain/rollout/context';
import type { z } from 'zod';
import { quickActivities } from '../activity-proxies';
import { enterStep } from '../step-context';
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
  return { workflowId, useCase, tablePrefix: patched(NAMES_64_BIT) ? rolloutTablePrefix(useCase, workflowId) : legacyTablePrefix(useCase, workflowId) };
}

// Kept on globalThis, which the SDK isolates per workflow run also when workers reuse one V8 context.
interface LoopDetailsState {
  summary?: string;
  stages: LoopStage[];
}
const holder = globalThis as { __aimoLoopDetails?: LoopDetailsState };

/** Search attributes and memo, so the UI's list shows where every loop is; the current details tell the stages so far. */
export function publish(useCase: string, step: string, status: string, summary?: string): void {
  upsertSearchAttributes([
    { key: USE_CASE, value: useCase },
    { key: STEP, value: step },
    { key: STATUS, value: status },
  ]);
  if (summary) upsertMemo({ summary });
  enterStep(useCase, step);
  const state = (holder.__aimoLoopDetails ??= { stages: [] });
  if (summary) state.summary = summary;
  state.stages.push({ step, status });
  setCurrentDetails(renderLoopDetails({ workflowId: workflowInfo().workflowId, ...(state.summary ? { summary: state.summary } : {}), stages: state.stages }));
}

export interface AuditTrail {
  (step: string, decision: string, reason: string, actor?: string, details?: Record<string, unknown>): Promise<void>;
  /** Rows written under this workflow id so far, those of runs before a continue-as-new included */
  written(): number;
}

/**
 * An audit writer with its own sequence, keyed by this workflow's id. Rows are
 * keyed by (workflow id, seq) and a run that continued as new keeps the id, so
 * it starts after the rows its earlier runs wrote instead of overwriting them.
 */
export function auditTrail(ctx: RolloutContext, alreadyWritten = 0): AuditTrail {
  let seq = alreadyWritten;
  // `at` is workflow time, which the SDK makes deterministic: a replayed or retried audit write carries the same timestamp.
  const write = (step: string, decision: string, reason: string, actor = 'aimo', details: Record<string, unknown> = {}) =>
    quickActivities.recordAudit({ ctx, seq: ++seq, step, decision, actor, reason, details, at: new Date().toISOString() });
  return Object.assign(write, { written: () => seq });
}

/** A loop whose window the data cannot fill: the UI and the audit log say so before the failure ends the run. */
export async function stoppedOnStaleData(useCase: string, step: string, audit: AuditTrail, err: unknown): Promise<void> {
  publish(useCase, step, 'failed');
  // Activity failures wrap the application failure that says what is stale.
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  await audit(step, 'window-refused', cause instanceof Error ? cause.message : String(cause));
}
