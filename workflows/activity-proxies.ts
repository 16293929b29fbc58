import { proxyActivities, proxyLocalActivities, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/common';
import type { Activities } from '../activities';
import { activitySummary } from './step-context';

// Activities raise what no retry can fix as non-retryable failures (NonRetryableError), so no list of error types is kept here.

/** Activities of these options, each call summarised by the step it serves (see step-context.ts). */
function summarisedActivities(options: ActivityOptions): ActivityInterfaceFor<Activities> {
  const proxy = proxyActivities<Activities>(options);
  return new Proxy(proxy, {
    get(target, name, receiver) {
      const activity = Reflect.get(target, name, receiver) as ActivityInterfaceFor<Activities>[keyof Activities];
      if (typeof name !== 'string' || typeof activity !== 'function') return activity;
      const call = (...args: unknown[]) => {
        const summary = activitySummary(name);
        return summary ? activity.executeWithOptions({ ...options, summary }, args as never) : (activity as (...a: unknown[]) => Promise<unknown>)(...args);
      };
      return Object.assign(call, { executeWithOptions: activity.executeWithOptions });
    },
  });
}

/** Warehouse work: long, retried with backoff on transient faults; the worker heartbeats beside every query, so a dead worker is noticed within 30 s. */
export const dataActivities = summarisedActivities({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/** Small writes and API calls (audit rows, reports, schedules, alerts). */
export const quickActivities = summarisedActivities({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});


/** Pure steps whose result must be fixed in the history (the validated plan): local, so they cost no task round-trip. */
export const localActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5 },
});
