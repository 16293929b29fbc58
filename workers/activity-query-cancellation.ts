import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { withCancellableQueries } from '../warehouse/cancellation';

/**
 * Every activity's warehouse statements answer to its cancellation signal:
 * when its rollout is cancelled (or the worker shuts down past its grace
 * time), the query running for it is interrupted in the warehouse instead of
 * running on, unobserved, to its end.
 */
export const activityQueryCancellation: ActivityInterceptorsFactory = (ctx) => ({
  inbound: { execute: (input, next) => withCancellableQueries(ctx.cancellationSignal, () => next(input)) },
});
