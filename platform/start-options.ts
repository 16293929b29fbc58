import type { WorkflowStartOptions } from '@temporalio/client';
import { STATUS, STEP, USE_CASE } from '../domain/rollout/definitions';

/**
 * How every person- or system-started aimo workflow is started: one run per
 * workflow id (USE_EXISTING joins a run still going, REJECT_DUPLICATE refuses
 * a second after one finished), tagged so the UI can filter it, with a
 * one-line summary and who or what started it.
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
  };
}
