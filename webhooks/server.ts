import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { installErrorHandler } from './errors';
import { closeConnectionsWhileDraining, keepRawJsonBodies, logWebhookResponses } from './hooks';
import { resolveSettings, type WebhookServerOptions } from './options';
import { registerAlertRoutes } from './routes/alerts';
import { registerApprovalRoutes } from './routes/approvals';
import { registerDataLandedRoutes } from './routes/data-landed';
import { registerMetricsRoutes } from './routes/metrics';
import { registerReportRoutes } from './routes/reports';
import { registerRollbackRoutes } from './routes/rollbacks';
import { registerRolloutRoutes } from './routes/rollouts';
import { registerServiceRoutes } from './routes/service';
import type { RegisterRoutes } from './routes/shared';
import { SignedRoutes } from './signed-routes';

export type { WebhookServerOptions } from './options';
export type { ReportSource } from './report-source';
export type { StartedResponse } from './routes/shared';

export interface WebhookServer {
  /** e.g. http://127.0.0.1:8787 */
  readonly url: string;
  /** Stops accepting, lets requests in flight finish, then returns. The Temporal client stays open (it is the caller's). */
  close(): Promise<void>;
}

/** The signed webhook routes: served only when at least one source has a secret. */
const SIGNED_ROUTES: readonly RegisterRoutes[] = [registerRolloutRoutes, registerDataLandedRoutes, registerAlertRoutes, registerApprovalRoutes, registerRollbackRoutes];

/** Read-only routes, always served; last, because the OpenAPI document (service routes) lists the signed routes registered before it. */
const OPEN_ROUTES: readonly RegisterRoutes[] = [registerReportRoutes, registerMetricsRoutes, registerServiceRoutes];

/** The server without listening: tests call `listen({ port: 0 })` or `inject`. */
export function buildWebhookServer(options: WebhookServerOptions): FastifyInstance {
  const settings = resolveSettings(options);
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'webhooks' }) as FastifyBaseLogger,
    // One line per webhook from logWebhookResponses instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: settings.maxBodyBytes,
    requestTimeout: 60_000,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    genReqId: () => randomUUID(),
  });
  keepRawJsonBodies(app);
  installErrorHandler(app, settings.maxBodyBytes);
  logWebhookResponses(app);
  const isDraining = closeConnectionsWhileDraining(app);
  const deps = { ...settings, signedRoutes: new SignedRoutes(settings.secrets, settings.toleranceSeconds), isDraining };
  const signed = Object.keys(settings.secrets).length > 0 ? SIGNED_ROUTES : [];
  for (const register of [...signed, ...OPEN_ROUTES]) register(app, deps);
  return app;
}

/** Builds, listens and returns the URL and a graceful close. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const app = buildWebhookServer(options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ port: options.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const sources = Object.keys(options.secrets);
  options.logger.info({ url, sources }, sources.length ? 'webhook server listening' : 'HTTP server listening: reports and health; signed webhooks off (no AIMO_WEBHOOK_SECRETS)');
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= app.close().then(() => options.logger.info('webhook server stopped'));
      return closing;
    },
  };
}
