import { ApplicationFailure } from '@temporalio/common';
import { isNonRetryable } from '../domain/errors';

/**
 * Activities throw NonRetryableError for problems retrying cannot fix; the
 * SDK only knows ApplicationFailure, so every activity passes through here.
 * Everything else stays a plain error and is retried with backoff.
 */
export function toTemporalFailure(err: unknown): unknown {
  if (isNonRetryable(err)) {
    return ApplicationFailure.create({ message: err.message, type: err.type, nonRetryable: true, details: err.details === undefined ? [] : [err.details] });
  }
  return err;
}

type AnyAsync = (...args: never[]) => Promise<unknown>;

export function withFailureMapping<T extends Record<string, AnyAsync>>(activities: T): T {
  const wrapped: Record<string, AnyAsync> = {};
  for (const [name, fn] of Object.entries(activities)) {
    const named = {
      async [name](...args: never[]) {
        try {
          return await fn(...args);
        } catch (err) {
          throw toTemporalFailure(err);
        }
      },
    };
    wrapped[name] = named[name]!;
  }
  return wrapped as T;
}
