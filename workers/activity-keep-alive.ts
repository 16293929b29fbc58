import type { Context } from '@temporalio/activity';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** Heartbeats per heartbeat timeout while an activity runs: two may be lost before the server gives up on the attempt. */
const BEATS_PER_TIMEOUT = 3;

/**
 * Runs an activity with a heartbeat beside it, so a query that takes
 * minutes still tells the server every few seconds that its worker lives,
 * and a killed worker's attempt is retried after one heartbeat timeout
 * instead of the start-to-close timeout. The activity's own heartbeats keep
 * their details: the beat between them repeats the latest ones (or the last
 * attempt's), so a checkpoint is never overwritten.
 */
export async function keepAlive<T>(ctx: Context, run: () => Promise<T>): Promise<T> {
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  if (!timeoutMs || ctx.info.isLocal) return run();
  const own = ctx.heartbeat;
  let latest: unknown = ctx.info.heartbeatDetails;
  const writable = ctx as { heartbeat: (details?: unknown) => void };
  writable.heartbeat = (details?: unknown) => {
    latest = details;
    own(details);
  };
  const timer = setInterval(() => own(latest), Math.max(250, Math.floor(timeoutMs / BEATS_PER_TIMEOUT)));
  try {
    return await run();
  } finally {
    clearInterval(timer);
    writable.heartbeat = own;
  }
}

/** Every activity with a heartbeat timeout keeps itself alive (see keepAlive). */
export const activityKeepAlive: ActivityInterceptorsFactory = (ctx) => ({
  inbound: { execute: (input, next) => keepAlive(ctx, () => next(input)) },
});
