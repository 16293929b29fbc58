import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';

// Activities raise what no retry can fix as non-retryable failures (NonRetryableError), so no list of error types is kept here.

/** Warehouse work: long, heartbeating, retried with backoff on transient faults. */
export const dataActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/** Small writes and API calls (audit rows, reports, schedules, alerts). */
export const quickActivities = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});


/** Pure steps whose result must be fixed in the history (the validated plan): local, so they cost no task round-trip. */
export const localActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5 },
});
