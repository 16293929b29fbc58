import type { FastifyInstance } from 'fastify';
import { HEADERS } from './signature';

/** Keep the exact bytes: the signature covers them, and JSON is parsed only after it verifies. */
export function keepRawJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

/** One line per webhook, in place of Fastify's request logging. */
export function logWebhookResponses(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    if (request.url.startsWith('/v1/')) {
      request.log.info(
        { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), source: request.headers[HEADERS.source], delivery: request.headers[HEADERS.delivery] },
        'webhook',
      );
    }
    done();
  });
}

/**
 * Answers given after close() began end their connection, so keep-alive
 * sockets do not hold the close open. Returns whether close() has begun.
 */
export function closeConnectionsWhileDraining(app: FastifyInstance): () => boolean {
  let draining = false;
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close');
    done(null, payload);
  });
  return () => draining;
}
