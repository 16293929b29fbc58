import { NonRetryableError } from '../domain/errors';

/**
 * How a warehouse failure reaches Temporal. Transient failures (rate limits,
 * 5xx, dropped connections, timeouts) are thrown as plain Errors so the
 * activity's retry policy runs them again; permanent ones become
 * NonRetryableError with one of these types, so the UI and the workflow can
 * tell "fix the SQL" from "fix the grants" from "fix the credentials".
 */
export const WarehouseErrorType = {
  MissingTable: 'MissingTable',
  QueryError: 'WarehouseQueryError',
  PermissionDenied: 'WarehousePermissionDenied',
  AuthenticationFailed: 'WarehouseAuthenticationFailed',
  ConfigError: 'WarehouseConfigError',
  CostBudgetExceeded: 'CostBudgetExceeded',
} as const;

export type WarehouseErrorType = (typeof WarehouseErrorType)[keyof typeof WarehouseErrorType];

export type WarehouseKind = 'BigQuery' | 'Snowflake';

/** A classification: retry it, or stop with this type. */
export type Verdict = { readonly retryable: true } | { readonly retryable: false; readonly type: WarehouseErrorType };

export const retry: Verdict = { retryable: true };
export const stop = (type: WarehouseErrorType): Verdict => ({ retryable: false, type });

/** The error to throw for a verdict; the message always carries the warehouse's own words. */
export function warehouseFailure(warehouse: WarehouseKind, verdict: Verdict, message: string, cause?: unknown): Error {
  if (verdict.retryable) {
    return new Error(`${warehouse} (transient, will be retried): ${message}`, { cause });
  }
  return new NonRetryableError(verdict.type, `${warehouse}: ${message}${hint(verdict.type)}`, { cause: describeCause(cause) });
}

function hint(type: WarehouseErrorType): string {
  switch (type) {
    case WarehouseErrorType.PermissionDenied:
      return ' (grant the role aimo runs as the privilege named here; see docs/warehouses.md)';
    case WarehouseErrorType.AuthenticationFailed:
      return ' (check the credentials aimo was given; see docs/warehouses.md)';
    default:
      return '';
  }
}

/** Only what is safe to keep in workflow history: no request bodies, no headers, no tokens. */
function describeCause(cause: unknown): Record<string, unknown> | undefined {
  if (!cause || typeof cause !== 'object') return undefined;
  const c = cause as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of ['name', 'code', 'sqlState', 'reason']) {
    const value = c[key];
    if (typeof value === 'string' || typeof value === 'number') out[key] = value;
  }
  return Object.keys(out).length ? out : undefined;
}

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * A connection that dropped or never came up, anywhere in the cause chain.
 * DNS failures count too: a mistyped host fails every retry, but so does a
 * resolver blip for a while, and a retry is the cheaper mistake.
 */
export function isNetworkFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
    if (typeof message === 'string' && /socket hang up|network (error|timeout)|connection (reset|closed)/i.test(message)) return true;
    e = cause;
  }
  return false;
}

/** HTTP statuses every cloud API uses the same way. */
export function verdictForHttpStatus(status: number): Verdict | undefined {
  if (status === 408 || status === 429 || status >= 500) return retry;
  if (status === 401) return stop(WarehouseErrorType.AuthenticationFailed);
  if (status === 403) return stop(WarehouseErrorType.PermissionDenied);
  if (status === 404) return stop(WarehouseErrorType.MissingTable);
  if (status >= 400) return stop(WarehouseErrorType.QueryError);
  return undefined;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return JSON.stringify(err) ?? String(err);
}

/** Bytes in words people read in a budget message. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
