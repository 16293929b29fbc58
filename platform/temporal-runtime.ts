import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import type { Logger } from './logger';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

let installed = false;

/**
 * Routes the SDK's logs — including workflow `log.*` (replay-aware, with
 * workflowId/runId/workflowType) and activity `log.*` (with activityType,
 * attempt) — through aimo's pino logger, and exposes SDK metrics for
 * Prometheus. The SDK allows one Runtime per process, so this is idempotent.
 */
export function installTemporalRuntime(logger: Logger, options: { metricsPort?: number } = {}): void {
  if (installed) return;
  installed = true;
  const sdkLogger = new DefaultLogger('INFO', (entry) => {
    const meta: LogMetadata = entry.meta ?? {};
    // Task tokens are opaque and long; the webpack report of the bundler is for debugging only.
    const { sdkComponent, taskToken: _taskToken, ...context } = meta as LogMetadata & { sdkComponent?: string; taskToken?: unknown };
    const level = entry.message.startsWith('asset workflow-bundle') ? 'debug' : PINO_LEVEL[entry.level];
    logger[level]({ ...context, component: sdkComponent ?? 'temporal' }, entry.message);
  });
  Runtime.install({
    logger: sdkLogger,
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(options.metricsPort
        ? { metrics: { prometheus: { bindAddress: `127.0.0.1:${options.metricsPort}` } } }
        : {}),
    },
  });
}
