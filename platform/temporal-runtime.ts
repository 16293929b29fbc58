import { DefaultLogger, Runtime, type LogLevel, type LogMetadata } from '@temporalio/worker';
import { describeError, type Logger } from './logger';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * The SDK's routine lifecycle messages, kept at debug so the default level
 * shows one line per event: the worker's state changes, services it does not
 * poll (the LLM worker runs no workflows on purpose), the bundler's report.
 */
const QUIET_SDK_MESSAGES = ['asset workflow-bundle', 'Worker state changed', 'No Nexus services registered', 'No workflows registered', 'No activities registered', 'Workflow bundle created'];

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
    const level = QUIET_SDK_MESSAGES.some((quiet) => entry.message.startsWith(quiet)) ? 'debug' : PINO_LEVEL[entry.level];
    // An Error in the metadata would print as {}: give its type and message, and put the reason in the line itself.
    const { error, failure, ...rest } = context as Record<string, unknown>;
    const cause = error ?? failure;
    const reason = cause === undefined ? undefined : describeError(cause);
    const message = reason ? `${entry.message}: ${reason.type}: ${reason.message}` : entry.message;
    logger[level]({ ...rest, ...(reason ? { error: reason } : {}), component: sdkComponent ?? 'temporal' }, message);
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
