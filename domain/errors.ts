/**
 * Errors that retrying cannot fix (bad input, bad config, missing table, a
 * broken contract). Activities convert them to non-retryable Temporal
 * failures; `type` becomes the failure's type so workflows and people can
 * tell them apart in the UI.
 */
export class NonRetryableError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = type;
  }
}

export function isNonRetryable(err: unknown): err is NonRetryableError {
  return err instanceof NonRetryableError;
}
