import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Fields that must never reach a log line: credentials and the PII the
 * simulator and warehouses carry. Paths cover the field at the top level and
 * one or two levels deep, where pino puts bound context and error details.
 */
const SENSITIVE = [
  'password', 'apiKey', 'api_key', 'token', 'secret', 'salt', 'hashSalt', 'privateKey', 'authorization',
  'email', 'phone', 'ip_address', 'TEMPORAL_API_KEY', 'SNOWFLAKE_PASSWORD', 'AIMO_HASH_SALT',
];
export const REDACT_PATHS = SENSITIVE.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export interface LoggerOptions {
  level?: string;
  format?: 'auto' | 'pretty' | 'json';
  /** Where JSON lines go; a test passes a stream to capture them (pretty: the rendered lines) */
  destination?: pino.DestinationStream;
}

/**
 * Context a person at a terminal does not need on every line (the JSON format
 * keeps all of it): Temporal's plumbing ids and the process's own fields. The
 * workflow id, activity type and step stay, so each line says what it is about.
 */
export const PRETTY_HIDDEN_FIELDS = ['pid', 'hostname', 'service', 'taskQueue', 'namespace', 'runId', 'workflowRunId', 'workflowType', 'isLocal', 'attempt', 'activityId', 'component'];

/**
 * pino-pretty's settings for the terminal: one line per event, the time of
 * day, noisy context hidden. aimo's `error` field ({ type, message }) stays on
 * its line: pino-pretty would spread an error-like field over several.
 */
export function prettyOptions(colorize: boolean): Record<string, unknown> {
  return { colorize, singleLine: true, translateTime: 'HH:MM:ss', ignore: PRETTY_HIDDEN_FIELDS.join(','), errorLikeObjectKeys: ['err'] };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty = options.format === 'pretty' || (options.format !== 'json' && !options.destination && process.stdout.isTTY);
  const base: pino.LoggerOptions = {
    level,
    base: { service: 'aimo' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (pretty) {
    // pino-pretty in-process (not as a transport thread) so Ctrl-C flushes synchronously.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pinoPretty = require('pino-pretty') as (o: object) => pino.DestinationStream;
    return pino(base, pinoPretty({ ...prettyOptions(!options.destination), ...(options.destination ? { destination: options.destination } : {}) }));
  }
  if (options.destination) return pino(base, options.destination);
  // Synchronous writes keep log lines in order with what the CLI prints to stdout.
  return pino(base, pino.destination({ dest: 1, sync: true }));
}

/** An error as two fields a log line can show: the failure's type and its message (an Error serialises to {} otherwise). */
export function describeError(err: unknown): { type: string; message: string } {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  // Temporal wraps the activity's own failure (ApplicationFailure, …) as the cause: that one says why.
  const inner = err.cause instanceof Error && /ActivityFailure|ChildWorkflowFailure/.test(err.name) ? err.cause : err;
  const type = (inner as { type?: unknown }).type;
  return { type: typeof type === 'string' && type ? type : inner.name, message: inner.message };
}
