import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ModelRun } from '../domain/propensity/results';
import type { RolloutPlan } from '../domain/plan';
import { PROPENSITY_DATA_PATH_LEVELS } from '../domain/propensity/features';
import type { RolloutContext } from '../domain/rollout/context';

/** Errors that no retry can fix: the activity raised them as non-retryable with one of these types. */
export const NON_RETRYABLE = [
  'InvalidPlan', 'MissingTable', 'WarehouseQueryError', 'WarehousePermissionDenied', 'InvalidIdentifier', 'BlockingDataGap',
  'CostBudgetExceeded', 'UnknownModelVersion', 'NoChampion', 'NoPreviousVersion', 'VersionFailedGates', 'InvalidArgument',
];

/** Warehouse work: long, heartbeating, retried with backoff on transient faults. */
export const dataActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/** Small writes and API calls (audit rows, reports, schedules, alerts). */
export const quickActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20, nonRetryableErrorTypes: NON_RETRYABLE },
});


/** The data path's DAG, level by level; the models within a level run in parallel. */
export async function runDataPath(ctx: RolloutContext, plan: RolloutPlan): Promise<ModelRun[]> {
  const models: ModelRun[] = [];
  for (const level of PROPENSITY_DATA_PATH_LEVELS) {
    models.push(...(await Promise.all(level.map((model) => dataActivities.runDataModel({ ctx, plan, model })))));
  }
  return models;
}
