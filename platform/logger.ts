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
  /** Where JSON lines go; a test passes a stream to capture them */
  destination?: pino.DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const pretty = options.format === 'pretty' || (options.format !== 'json' && !options.destination && process.stdout.isTTY);
  const base: pino.LoggerOptions = {
    level,
    base: { service: 'aimo' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    // pino-pretty in-process (not as a transport thread) so Ctrl-C flushes synchronously.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pinoPretty = require('pino-pretty') as (o: object) => pino.DestinationStream;
    return pino(base, pinoPretty({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,service' }));
  }
  // Synchronous writes keep log lines in order with what the CLI prints to stdout.
  return pino(base, pino.destination({ dest: 1, sync: true }));
}
