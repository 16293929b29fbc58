import type { WorkflowStartOptions } from '@temporalio/client';
import { STATUS, STEP, USE_CASE } from '../domain/rollout/definitions';

/**
 * How every person- or system-started aimo workflow is started: one run per
 * workflow id (USE_EXISTING joins a run still going, REJECT_DUPLICATE refuses
 * a second after one finished), tagged so the UI can filter it, with a
 * one-line summary and who or what started it. The workflow itself keeps its
 * current details (steps, gates, report) up to date, also when it was started
 * from the UI's form, a schedule or a parent.
 */
export function aimoStartOptions(options: {
  taskQueue: string;
  workflowId: string;
  args: unknown[];
  useCase: string;
  summary: string;
  trigger: object;
}): WorkflowStartOptions {
  return {
    taskQueue: options.taskQueue,
    workflowId: options.workflowId,
    args: options.args,
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: USE_CASE, value: options.useCase },
      { key: STEP, value: 'start' },
      { key: STATUS, value: 'running' },
    ],
    memo: { summary: options.summary, trigger: options.trigger },
    staticSummary: options.summary,
    staticDetails: startDetails(options.workflowId, options.trigger),
  };
}

/** Markdown the UI shows as the workflow's fixed details: who or what started it, and how to follow it. */
export function startDetails(workflowId: string, trigger: object): string {
  const entries = Object.entries(trigger as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object');
  const started = entries.length ? entries.map(([k, v]) => `${k}: \`${String(v)}\``).join(', ') : 'not recorded';
  return [`**Started** — ${started}`, '', `Follow it: \`npx aimo status ${workflowId}\``].join('\n');
}
