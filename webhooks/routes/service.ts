import { buildOpenApiDocument } from '../openapi';
import { withDeadline, type RegisterRoutes } from './shared';

/**
 * The unsigned GET routes: the OpenAPI document, liveness and readiness.
 * Register these last: the document lists the signed routes registered before.
 */
export const registerServiceRoutes: RegisterRoutes = (app, deps) => {
  const openApi = buildOpenApiDocument(deps.signedRoutes.docs, { maxBodyBytes: deps.maxBodyBytes, toleranceSeconds: deps.toleranceSeconds });
  app.get('/openapi.json', async () => openApi);

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_request, reply) => {
    if (deps.isDraining()) return reply.code(503).send({ ready: false, reason: 'shutting down' });
    try {
      await withDeadline(deps, 2000, () => deps.client.workflowService.getSystemInfo({}));
      return { ready: true, namespace: deps.namespace };
    } catch (err) {
      return reply.code(503).send({ ready: false, reason: `Temporal not reachable: ${err instanceof Error ? err.message : String(err)}` });
    }
  });
};
