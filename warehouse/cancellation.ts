import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueryContext } from './warehouse';

const scope = new AsyncLocalStorage<AbortSignal>();

/**
 * Statements started inside `work` stop when `signal` aborts, where the
 * warehouse can interrupt them. The worker wraps every activity in its
 * cancellation signal, so a cancelled rollout does not leave a query of
 * minutes running (and billed) behind it; code below needs no parameter.
 */
export function withCancellableQueries<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  return scope.run(signal, work);
}

/** The signal a statement answers to: the call's own, else that of the activity running it. */
export function querySignal(ctx?: QueryContext): AbortSignal | undefined {
  return ctx?.signal ?? scope.getStore();
}

/** How long an interrupted statement may take to give its connection back before the caller moves on. */
const SETTLE_AFTER_INTERRUPT_MS = 5_000;

/**
 * Runs a statement; when the signal aborts first, asks the warehouse to stop
 * it (`interrupt`), waits briefly for it to end so its connection is free
 * again, and rejects with the signal's reason — for an activity, the
 * CancelledFailure the SDK reports as a cancellation rather than a failure.
 * A signal already aborted starts nothing.
 */
export async function interruptible<T>(signal: AbortSignal | undefined, run: () => Promise<T>, interrupt: () => unknown): Promise<T> {
  if (!signal) return run();
  if (signal.aborted) throw abortReason(signal);
  const running = run();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const first = await Promise.race([running.then((value) => ({ value })), aborted]);
    if (first !== 'aborted') return first.value;
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
  // Stopping is best effort and bounded: the statement's own timeout still ends it where the warehouse cannot.
  await settled(() => interrupt());
  await settled(() => running);
  throw abortReason(signal);
}

function settled(work: () => unknown): Promise<unknown> {
  let pending: Promise<unknown>;
  try {
    pending = Promise.resolve(work()).catch(() => undefined);
  } catch {
    return Promise.resolve();
  }
  return Promise.race([pending, new Promise((resolve) => setTimeout(resolve, SETTLE_AFTER_INTERRUPT_MS).unref())]);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('the statement was cancelled');
}
