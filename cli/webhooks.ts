import { loadWebhookConfig, WebhookConfigError } from '../config/webhooks';
import { createLogger } from '../platform/logger';
import { ensureSearchAttributes } from '../platform/search-attributes';
import { CliError, EXIT, type CliContext } from './context';

/** `aimo webhooks serve`: the webhook server on its own, against the configured Temporal; Ctrl-C drains and stops. */
export async function webhooksServe(ctx: CliContext): Promise<number> {
  const config = ctx.config;
  let webhook;
  try {
    webhook = loadWebhookConfig(config);
  } catch (err) {
    if (err instanceof WebhookConfigError) throw new CliError(err.message, EXIT.environment);
    throw err;
  }
  const logger = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  const client = await ctx.client();
  await ensureSearchAttributes(await ctx.connection(), config.temporal.namespace);
  // Loaded on use: every other command would pay for the HTTP server's import.
  const { startWebhookServer } = await import('../webhooks/server');
  const server = await startWebhookServer({ client, logger, ...webhook });
  ctx.io.err(`aimo webhooks listening on ${server.url} (sources: ${Object.keys(webhook.secrets).join(', ')}); OpenAPI at ${server.url}/openapi.json. Ctrl-C stops.`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return EXIT.ok;
}
