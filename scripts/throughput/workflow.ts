import { proxyActivities } from '@temporalio/workflow';
import type { ThroughputActivities } from './activities';

/**
 * The heartbeat timeout of aimo's warehouse activities (workflows/activity-proxies.ts),
 * so aimo's worker takes its costlier path: the keep-alive interceptor arms a
 * heartbeat timer around every attempt. On a worker with SDK defaults it changes nothing.
 */
const { increment } = proxyActivities<ThroughputActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

/** `activities` short activities in a row, each waiting for the one before: the chain a rollout step is made of. */
export async function shortActivityChain(activities: number): Promise<number> {
  let value = 0;
  for (let i = 0; i < activities; i++) value = await increment(value);
  return value;
}
