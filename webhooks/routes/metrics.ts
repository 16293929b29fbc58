import type { RegisterRoutes } from './shared';

/**
 * GET /metrics: aimo's own Prometheus metrics (the SDK's are on
 * AIMO_METRICS_PORT), unsigned like the service routes, so it serves with
 * or without webhook secrets. Absent when the server was given no source.
 */
export const registerMetricsRoutes: RegisterRoutes = (app, deps) => {
  const source = deps.metrics;
  if (!source) return;
  app.get('/metrics', async (_request, reply) => {
    const text = await source.metrics();
    return reply.header('content-type', source.contentType).send(text);
  });
};
