import { isGrpcServiceError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';

/** An answer a route gives on purpose: its status, message and, for invalid bodies, one problem per field. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly problems?: string[],
  ) {
    super(message);
  }
}

/** Every error leaves as `{ error, problems? }`; only the unexpected ones are logged as failures. */
export function installErrorHandler(app: FastifyInstance, maxBodyBytes: number): void {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.message, ...(err.problems ? { problems: err.problems } : {}) });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status === 413) return reply.code(413).send({ error: `the body is larger than ${maxBodyBytes} bytes` });
    if (status === 415) return reply.code(415).send({ error: 'send the body as application/json' });
    if (status < 500) return reply.code(status).send({ error: err.message });
    if (isTemporalUnavailable(err)) {
      request.log.warn({ err }, 'Temporal unavailable');
      return reply.code(503).send({ error: 'Temporal is not reachable right now; nothing was started, retry with the same delivery id' });
    }
    request.log.error({ err }, 'webhook failed');
    return reply.code(500).send({ error: 'internal error; nothing was started unless the workflow link of a retry says otherwise' });
  });
}

function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcServiceError(err)) return err.code === 14 || err.code === 4;
  const cause = (err as { cause?: unknown })?.cause;
  return cause !== undefined && cause !== err && isGrpcServiceError(cause) && (cause.code === 14 || cause.code === 4);
}
