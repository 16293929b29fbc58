import { createHash } from 'node:crypto';
import {
  BigQuery,
  BigQueryDate,
  BigQueryDatetime,
  BigQueryInt,
  BigQueryTime,
  BigQueryTimestamp,
  Geography,
  type BigQueryOptions,
  type Job,
  type Query,
  type TableField,
} from '@google-cloud/bigquery';
import { NonRetryableError } from '../domain/errors';
import { BigQueryDialect } from './dialect';
import {
  formatBytes,
  isNetworkFailure,
  messageOf,
  retry,
  stop,
  verdictForHttpStatus,
  WarehouseErrorType,
  warehouseFailure,
  type Verdict,
} from './errors';
import { assertIdentifier, type TableRef } from '../domain/table-ref';
import { compileParams, type SqlParams, type SqlValue } from './params';
import { interruptible, querySignal } from './cancellation';
import { DialectWarehouse, type ColumnInfo, type QueryContext, type Row } from './warehouse';
import { reportStatement } from './statement-stats';

export interface BigQueryWarehouseOptions {
  readonly projectId: string;
  /** The dataset aimo writes to and reads unqualified tables from */
  readonly dataset: string;
  /** Where jobs run and the dataset lives, e.g. `EU`, `US`, `europe-west1` */
  readonly location?: string;
  /** Another endpoint than Google's: an emulator or a private service connect address */
  readonly apiEndpoint?: string;
  /** A service-account key file; otherwise Application Default Credentials */
  readonly keyFilename?: string;
  readonly credentials?: { readonly client_email: string; readonly private_key: string };
  /** Send no credentials at all. Only for emulators, which accept any caller. */
  readonly unauthenticated?: boolean;
  /** A job running longer than this is cancelled by BigQuery (the statement timeout) */
  readonly jobTimeoutMs?: number;
  /** Extra labels on every job, e.g. `{ team: 'growth' }`, sanitised like the others */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Labels aimo puts on every job so the bill can be split by use case and run. */
export const JOB_LABEL_KEYS = { app: 'app', useCase: 'aimo_use_case', workflowId: 'aimo_workflow_id' } as const;

const DEFAULT_JOB_TIMEOUT_MS = 60 * 60 * 1000;

/**
 * BigQuery through the official client. Each statement is one query job,
 * labelled with who asked for it; with a byte budget the job is first
 * dry-run and refused when the estimate is over budget, and the budget also
 * travels as `maximumBytesBilled` so BigQuery itself stops a job that the
 * estimate under-counted.
 */
export class BigQueryWarehouse extends DialectWarehouse {
  readonly dialect: BigQueryDialect;
  private readonly client: BigQuery;
  private readonly staticLabels: Record<string, string>;

  constructor(private readonly options: BigQueryWarehouseOptions) {
    super();
    this.dialect = new BigQueryDialect(options.projectId, options.dataset);
    this.client = new BigQuery(clientOptions(options));
    this.staticLabels = sanitiseLabels(options.labels ?? {});
  }

  get projectId(): string {
    return this.options.projectId;
  }

  get dataset(): string {
    return this.options.dataset;
  }

  async query<T extends Row = Row>(sql: string, params: SqlParams = {}, ctx: QueryContext = {}): Promise<T[]> {
    const { value: [rows], job } = await this.runJob(sql, params, ctx, (job) => job.getQueryResults({ wrapIntegers: true, autoPaginate: true }));
    reportStatement({ warehouse: 'bigquery', kind: 'query', rowsReturned: rows.length, ...jobStatistics(job), ...(ctx.useCase ? { useCase: ctx.useCase } : {}) });
    return (rows as Record<string, unknown>[]).map((row) => normaliseRow(row) as T);
  }

  async execute(sql: string, params: SqlParams = {}, ctx: QueryContext = {}): Promise<void> {
    const { job } = await this.runJob(sql, params, ctx, (job) => job.promise());
    reportStatement({ warehouse: 'bigquery', kind: 'execute', ...jobStatistics(job), ...(ctx.useCase ? { useCase: ctx.useCase } : {}) });
  }

  /** Starts the job and waits for it; a cancelled activity cancels the job in BigQuery, so it stops scanning (and billing). */
  private async runJob<R>(sql: string, params: SqlParams, ctx: QueryContext, wait: (job: Job) => Promise<R>): Promise<{ value: R; job: Job }> {
    const signal = querySignal(ctx);
    signal?.throwIfAborted();
    const job = await this.startJob(sql, params, ctx);
    try {
      return { value: await interruptible(signal, () => wait(job), () => job.cancel()), job };
    } catch (err) {
      if (signal?.aborted) throw err;
      throw classifyBigQueryError(err);
    }
  }

  /** The estimate BigQuery gives for a statement, without running it. */
  async estimateBytes(sql: string, params: SqlParams = {}, ctx: QueryContext = {}): Promise<number> {
    const request = this.jobRequest(sql, params, ctx);
    try {
      const [job] = await this.client.createQueryJob({ ...request, dryRun: true });
      return dryRunBytes(job);
    } catch (err) {
      throw classifyBigQueryError(err);
    }
  }

  async tableExists(table: TableRef): Promise<boolean> {
    try {
      const [exists] = await this.tableHandle(table).exists();
      return exists;
    } catch (err) {
      throw classifyBigQueryError(err);
    }
  }

  async columns(table: TableRef): Promise<ColumnInfo[]> {
    let fields: TableField[];
    try {
      const [metadata] = await this.tableHandle(table).getMetadata();
      fields = (metadata as { schema?: { fields?: TableField[] } }).schema?.fields ?? [];
    } catch (err) {
      const classified = classifyBigQueryError(err);
      if (classified instanceof NonRetryableError && classified.type === WarehouseErrorType.MissingTable) {
        throw missingTable(this.qualifiedName(table), classified.message);
      }
      throw classified;
    }
    return fields.map((f) => ({ name: f.name ?? '', type: standardSqlType(f), nullable: f.mode !== 'REQUIRED' && f.mode !== 'REPEATED' }));
  }

  /** Creates the configured dataset in the configured location when it is missing. */
  async ensureDataset(): Promise<void> {
    try {
      const dataset = this.client.dataset(this.options.dataset);
      const [exists] = await dataset.exists();
      if (!exists) await dataset.create(this.options.location ? { location: this.options.location } : {});
    } catch (err) {
      if ((err as { code?: unknown }).code === 409) return; // created meanwhile by another worker
      throw classifyBigQueryError(err);
    }
  }

  async close(): Promise<void> {
    // The client holds no sockets of its own beyond Node's keep-alive agent.
  }

  private async startJob(sql: string, params: SqlParams, ctx: QueryContext): Promise<Job> {
    const request = this.jobRequest(sql, params, ctx);
    if (ctx.maxBytesScanned !== undefined) {
      await this.refuseOverBudget(request, ctx);
      request.maximumBytesBilled = String(Math.floor(ctx.maxBytesScanned));
    }
    try {
      const [job] = await this.client.createQueryJob({ ...request, jobPrefix: 'aimo_' });
      return job;
    } catch (err) {
      throw classifyBigQueryError(err);
    }
  }

  private async refuseOverBudget(request: Query, ctx: QueryContext): Promise<void> {
    const budget = ctx.maxBytesScanned!;
    let estimate: number;
    try {
      const [dryRun] = await this.client.createQueryJob({ ...request, dryRun: true });
      estimate = dryRunBytes(dryRun);
    } catch (err) {
      throw classifyBigQueryError(err);
    }
    if (estimate > budget) {
      const who = [ctx.useCase && `use case ${ctx.useCase}`, ctx.workflowId && `workflow ${ctx.workflowId}`].filter(Boolean).join(', ');
      throw new NonRetryableError(
        WarehouseErrorType.CostBudgetExceeded,
        `BigQuery query refused before it ran: the dry run estimates ${formatBytes(estimate)} (${estimate} bytes) scanned, ` +
          `over the budget of ${formatBytes(budget)} (${budget} bytes)${who ? ` for ${who}` : ''}. ` +
          `Filter on the partition column, select fewer columns, or raise the byte budget in the plan.`,
        { estimateBytes: estimate, budgetBytes: budget },
      );
    }
  }

  private jobRequest(sql: string, params: SqlParams, ctx: QueryContext): Query {
    const compiled = compileParams(sql, params, 'at');
    const request: Query = {
      query: compiled.sql,
      useLegacySql: false,
      defaultDataset: { projectId: this.options.projectId, datasetId: this.options.dataset },
      labels: { ...this.staticLabels, ...contextLabels(ctx) },
      jobTimeoutMs: this.options.jobTimeoutMs ?? DEFAULT_JOB_TIMEOUT_MS,
    };
    if (this.options.location) request.location = this.options.location;
    const names = Object.keys(compiled.named);
    if (names.length > 0) {
      request.params = Object.fromEntries(names.map((n) => [n, toQueryValue(compiled.named[n]!)]));
      const nullTypes = names.filter((n) => compiled.named[n] === null);
      // BigQuery needs a type for every parameter and cannot infer one from null.
      if (nullTypes.length > 0) request.types = Object.fromEntries(nullTypes.map((n) => [n, 'STRING']));
    }
    return request;
  }

  private tableHandle(table: TableRef) {
    return this.client.dataset(assertIdentifier(table.schema ?? this.options.dataset)).table(assertIdentifier(table.name));
  }

  private qualifiedName(table: TableRef): string {
    return `${this.options.projectId}.${table.schema ?? this.options.dataset}.${table.name}`;
  }
}

function clientOptions(options: BigQueryWarehouseOptions): BigQueryOptions {
  const out: BigQueryOptions = { projectId: options.projectId };
  if (options.location) out.location = options.location;
  if (options.apiEndpoint) out.apiEndpoint = options.apiEndpoint;
  if (options.keyFilename) out.keyFilename = options.keyFilename;
  if (options.credentials) out.credentials = { ...options.credentials };
  if (options.unauthenticated) out.authClient = anonymousAuthClient() as BigQueryOptions['authClient'];
  return out;
}

/**
 * google-auth-library accepts any client that can produce request headers;
 * this one produces none, so no token is fetched or sent (emulators only).
 */
function anonymousAuthClient(): { getRequestHeaders(): Promise<Headers> } {
  return { getRequestHeaders: async () => new Headers() };
}

/** What a finished job's statistics say it scanned and changed (the emulator may leave either out). */
function jobStatistics(job: Job): { bytesScanned?: number; rowsChanged?: number } {
  const statistics = job.metadata?.statistics as { totalBytesProcessed?: string; query?: { totalBytesProcessed?: string; numDmlAffectedRows?: string } } | undefined;
  const bytes = statistics?.query?.totalBytesProcessed ?? statistics?.totalBytesProcessed;
  const changed = statistics?.query?.numDmlAffectedRows;
  return { ...(bytes !== undefined ? { bytesScanned: Number(bytes) } : {}), ...(changed !== undefined ? { rowsChanged: Number(changed) } : {}) };
}

function dryRunBytes(job: Job): number {
  const statistics = job.metadata?.statistics as { totalBytesProcessed?: string; query?: { totalBytesProcessed?: string } } | undefined;
  return Number(statistics?.query?.totalBytesProcessed ?? statistics?.totalBytesProcessed ?? 0);
}

function toQueryValue(value: SqlValue): unknown {
  // The client would JSON-serialise a bigint and fail; BigQueryInt carries it as INT64.
  if (typeof value === 'bigint') return new BigQueryInt(value.toString());
  return value;
}

// ---------------------------------------------------------------------------
// Labels

const LABEL_MAX = 63;

/**
 * BigQuery label rules: keys and values at most 63 characters of lower-case
 * letters, digits, `_` and `-`; keys start with a letter. Anything else is
 * replaced by `_`; a value too long keeps its start plus a short hash, so two
 * long workflow ids never share a label.
 */
export function sanitiseLabelValue(value: string): string {
  const cleaned = value.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
  if (cleaned.length <= LABEL_MAX) return cleaned;
  const digest = createHash('sha256').update(value).digest('hex').slice(0, 8);
  return `${cleaned.slice(0, LABEL_MAX - digest.length - 1)}-${digest}`;
}

export function sanitiseLabelKey(key: string): string {
  const value = sanitiseLabelValue(key);
  return /^[a-z]/.test(value) ? value : `l${value}`.slice(0, LABEL_MAX);
}

function sanitiseLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [sanitiseLabelKey(k), sanitiseLabelValue(v)]));
}

export function contextLabels(ctx: QueryContext): Record<string, string> {
  const labels: Record<string, string> = { [JOB_LABEL_KEYS.app]: 'aimo' };
  if (ctx.useCase) labels[JOB_LABEL_KEYS.useCase] = sanitiseLabelValue(ctx.useCase);
  if (ctx.workflowId) labels[JOB_LABEL_KEYS.workflowId] = sanitiseLabelValue(ctx.workflowId);
  return labels;
}

// ---------------------------------------------------------------------------
// Results

/** Plain JS values, as DuckDbWarehouse returns them: numbers, strings, booleans, Dates, null. */
function normaliseRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = normaliseValue(v);
  return out;
}

function normaliseValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (v instanceof BigQueryInt) return integerValue(v.value);
  if (v instanceof BigQueryTimestamp) return new Date(v.value);
  if (v instanceof BigQueryDate) return new Date(`${v.value}T00:00:00.000Z`);
  // DATETIME has no zone; like DuckDB's TIMESTAMP it is read as UTC wall-clock time.
  if (v instanceof BigQueryDatetime) return new Date(`${v.value.replace(' ', 'T')}Z`);
  if (v instanceof BigQueryTime) return v.value;
  if (v instanceof Geography) return v.value;
  if (Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(normaliseValue);
  if (isBigDecimal(v)) return Number(v.toString());
  if (typeof v === 'object') return normaliseRow(v as Record<string, unknown>);
  return v;
}

function integerValue(text: string): number | string {
  const n = BigInt(text);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : text;
}

/** NUMERIC / BIGNUMERIC arrive as big.js values, which the client does not export. */
function isBigDecimal(v: unknown): v is { toString(): string } {
  return typeof v === 'object' && v !== null && v.constructor?.name === 'Big';
}

const LEGACY_TYPE_NAMES: Record<string, string> = {
  INTEGER: 'INT64',
  FLOAT: 'FLOAT64',
  BOOLEAN: 'BOOL',
  RECORD: 'STRUCT',
};

/** The table API speaks legacy type names; aimo's SQL (and INFORMATION_SCHEMA) speak standard ones. */
function standardSqlType(field: TableField): string {
  const raw = (field.type ?? 'STRING').toUpperCase();
  const base = LEGACY_TYPE_NAMES[raw] ?? raw;
  return field.mode === 'REPEATED' ? `ARRAY<${base}>` : base;
}

// ---------------------------------------------------------------------------
// Errors

const TRANSIENT_REASONS = new Set([
  'backendError',
  'internalError',
  'rateLimitExceeded',
  'jobRateLimitExceeded',
  'quotaExceeded',
  'tableUnavailable',
  'jobBackendError',
  'jobInternalError',
  'serviceUnavailable',
  'timeout',
]);

const REASON_VERDICTS: Record<string, Verdict> = {
  notFound: stop(WarehouseErrorType.MissingTable),
  accessDenied: stop(WarehouseErrorType.PermissionDenied),
  billingNotEnabled: stop(WarehouseErrorType.PermissionDenied),
  bytesBilledLimitExceeded: stop(WarehouseErrorType.CostBudgetExceeded),
  invalidQuery: stop(WarehouseErrorType.QueryError),
  invalid: stop(WarehouseErrorType.QueryError),
  duplicate: stop(WarehouseErrorType.QueryError),
  resourcesExceeded: stop(WarehouseErrorType.QueryError),
  responseTooLarge: stop(WarehouseErrorType.QueryError),
  billingTierLimitExceeded: stop(WarehouseErrorType.QueryError),
  notImplemented: stop(WarehouseErrorType.QueryError),
  stopped: stop(WarehouseErrorType.QueryError),
};

/**
 * Google's API errors carry an HTTP status (`code`) and one or more
 * `errors[].reason`; failed jobs carry only the reasons. Reasons decide
 * first: BigQuery answers a rate limit with 403 `rateLimitExceeded`, which
 * is not a permission problem.
 */
export function classifyBigQueryError(err: unknown): Error {
  if (err instanceof NonRetryableError) return err;
  const message = messageOf(err);
  return warehouseFailure('BigQuery', bigQueryVerdict(err, message), message, err);
}

function bigQueryVerdict(err: unknown, message: string): Verdict {
  if (isNetworkFailure(err)) return retry;
  const e = (err ?? {}) as { code?: unknown; status?: unknown; errors?: unknown; response?: { statusCode?: unknown; status?: unknown } };
  // A key file that is not there or not readable stays that way.
  if (e.code === 'ENOENT' || e.code === 'EACCES') return stop(WarehouseErrorType.ConfigError);
  const reasons = Array.isArray(e.errors) ? e.errors.map((x) => (x as { reason?: unknown }).reason).filter((r): r is string => typeof r === 'string') : [];
  if (reasons.some((r) => TRANSIENT_REASONS.has(r))) return retry;
  for (const reason of reasons) {
    const verdict = REASON_VERDICTS[reason];
    if (!verdict) continue;
    if (reason === 'notFound' && /not found: project/i.test(message)) return stop(WarehouseErrorType.ConfigError);
    if (reason === 'notFound' && !/\b(table|dataset|view)\b/i.test(message)) return stop(WarehouseErrorType.QueryError);
    return verdict;
  }
  if (/could not load the default credentials|invalid_grant|invalid_client|unauthorized_client/i.test(message)) {
    return stop(WarehouseErrorType.AuthenticationFailed);
  }
  const status = [e.code, e.status, e.response?.statusCode, e.response?.status].find((s): s is number => typeof s === 'number');
  if (status !== undefined) {
    const verdict = verdictForHttpStatus(status);
    if (verdict && !(status === 404 && !/\b(table|dataset|view)\b/i.test(message))) return verdict;
    if (verdict) return stop(WarehouseErrorType.QueryError);
  }
  return retry;
}

function missingTable(name: string, warehouseMessage: string): NonRetryableError {
  return new NonRetryableError(
    WarehouseErrorType.MissingTable,
    `table ${name} does not exist: create it or fix the table name in the plan (${warehouseMessage})`,
  );
}
