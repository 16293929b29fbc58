import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import snowflake from 'snowflake-sdk';
import { NonRetryableError } from '../domain/errors';
import { SnowflakeDialect } from './dialect';
import { isNetworkFailure, messageOf, retry, stop, verdictForHttpStatus, WarehouseErrorType, warehouseFailure, type Verdict } from './errors';
import type { TableRef } from '../domain/table-ref';
import { compileParams, type SqlParams, type SqlValue } from './params';
import { interruptible, querySignal } from './cancellation';
import { DialectWarehouse, type ColumnInfo, type QueryContext, type Row } from './warehouse';
import { reportStatement } from './statement-stats';

export type SnowflakeAuth =
  | { readonly kind: 'password'; readonly password: string }
  | {
      readonly kind: 'keyPair';
      /** A PEM file (PKCS#8, optionally encrypted) ... */
      readonly privateKeyPath?: string;
      /** ... or the PEM text itself */
      readonly privateKey?: string;
      readonly passphrase?: string;
    };

export interface SnowflakeWarehouseOptions {
  /** Account identifier, e.g. `myorg-myaccount` */
  readonly account: string;
  readonly username: string;
  readonly auth: SnowflakeAuth;
  readonly warehouse: string;
  readonly database: string;
  readonly schema: string;
  readonly role?: string;
  /** Another endpoint than `https://<account>.snowflakecomputing.com`: private link, or an emulator */
  readonly accessUrl?: string;
  /** Snowflake cancels a statement running longer than this (STATEMENT_TIMEOUT_IN_SECONDS) */
  readonly statementTimeoutSeconds?: number;
  /** Sessions kept open for concurrent activities; one more statement waits for a free one */
  readonly maxSessions?: number;
  /** An idle session is logged out after this long */
  readonly idleSessionMillis?: number;
}

const DEFAULT_STATEMENT_TIMEOUT_SECONDS = 60 * 60;
const DEFAULT_MAX_SESSIONS = 4;
const DEFAULT_IDLE_SESSION_MILLIS = 5 * 60 * 1000;
const QUERY_TAG_MAX = 2000;

/**
 * Snowflake through snowflake-sdk. Statements run on a small pool of
 * sessions (see SessionPool for why); everything that varies per statement
 * (query tag, timeout, time zone) travels as statement parameters, so no
 * session state leaks from one activity to the next.
 */
export class SnowflakeWarehouse extends DialectWarehouse {
  readonly dialect: SnowflakeDialect;

  private constructor(
    private readonly options: SnowflakeWarehouseOptions,
    private readonly pool: SessionPool,
  ) {
    super();
    this.dialect = new SnowflakeDialect(options.database, options.schema);
  }

  /** Validates the configuration, then logs in once so bad credentials fail at start-up, not mid-rollout. */
  static async open(options: SnowflakeWarehouseOptions): Promise<SnowflakeWarehouse> {
    // The driver logs every login at INFO on stdout; aimo reports failures itself, as classified errors.
    snowflake.configure({ logLevel: 'ERROR' });
    const pool = new SessionPool(connectionOptions(options), options.maxSessions ?? DEFAULT_MAX_SESSIONS, options.idleSessionMillis ?? DEFAULT_IDLE_SESSION_MILLIS);
    const warehouse = new SnowflakeWarehouse(options, pool);
    try {
      await pool.use(async () => undefined);
    } catch (err) {
      await pool.close();
      throw err;
    }
    return warehouse;
  }

  async query<T extends Row = Row>(sql: string, params: SqlParams = {}, ctx: QueryContext = {}): Promise<T[]> {
    return (await this.run(sql, params, ctx, 'query')) as T[];
  }

  async execute(sql: string, params: SqlParams = {}, ctx: QueryContext = {}): Promise<void> {
    await this.run(sql, params, ctx, 'execute');
  }

  async tableExists(table: TableRef): Promise<boolean> {
    return (await this.describe(table)).length > 0;
  }

  async columns(table: TableRef): Promise<ColumnInfo[]> {
    const rows = await this.describe(table);
    if (rows.length === 0) {
      const schema = table.schema ?? this.options.schema;
      throw new NonRetryableError(
        WarehouseErrorType.MissingTable,
        `table ${this.options.database}.${schema}.${table.name} does not exist (or the role cannot see it): create it or fix the table name in the plan`,
      );
    }
    return rows.map((r) => ({ name: r.column_name, type: r.data_type.toUpperCase(), nullable: r.is_nullable === 'YES' }));
  }

  /**
   * The table's columns from INFORMATION_SCHEMA, in order. The schema is
   * matched exactly when it exists as written; otherwise ignoring case,
   * because fakesnow (the emulator) stores every schema name upper-case,
   * quoted or not. On Snowflake the exact match is what aimo's own quoted
   * names always find.
   */
  private async describe(table: TableRef): Promise<Array<{ table_schema: string; column_name: string; data_type: string; is_nullable: string }>> {
    const schema = table.schema ?? this.options.schema;
    const rows = await this.query<{ table_schema: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_schema, column_name, data_type, is_nullable FROM ${this.dialect.quote(this.options.database)}.INFORMATION_SCHEMA.COLUMNS
       WHERE UPPER(table_schema) = UPPER(@schema) AND table_name = @name ORDER BY table_schema, ordinal_position`,
      { schema, name: table.name },
    );
    const exact = rows.filter((r) => r.table_schema === schema);
    if (exact.length > 0) return exact;
    const schemas = new Set(rows.map((r) => r.table_schema));
    return schemas.size === 1 ? rows : [];
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async run(sql: string, params: SqlParams, ctx: QueryContext, kind: 'query' | 'execute'): Promise<Row[]> {
    const compiled = compileParams(sql, params, 'positional');
    const statementParameters = {
      QUERY_TAG: queryTag(ctx),
      STATEMENT_TIMEOUT_IN_SECONDS: this.options.statementTimeoutSeconds ?? DEFAULT_STATEMENT_TIMEOUT_SECONDS,
      TIMEZONE: 'UTC',
    };
    const signal = querySignal(ctx);
    return this.pool.use((conn) => {
      let statement: snowflake.RowStatement | undefined;
      const run = () =>
        new Promise<Row[]>((resolve, reject) => {
          statement = conn.execute({
            sqlText: compiled.sql,
            binds: compiled.ordered.map(toBind),
            parameters: statementParameters,
            rowMode: 'array',
            // Numbers come as text so large integers keep every digit (see numberFromText).
            fetchAsString: ['Number'],
            complete: (err, stmt, rows) => {
              if (err) return reject(classifySnowflakeError(err));
              reportStatement({ warehouse: 'snowflake', kind, rowsReturned: rows?.length ?? 0, ...changedRows(stmt), ...(ctx.useCase ? { useCase: ctx.useCase } : {}) });
              resolve(toRows(stmt.getColumns() ?? [], (rows ?? []) as unknown[][]));
            },
          });
        });
      // A cancelled activity cancels its statement in Snowflake, so the warehouse stops working (and billing) for it.
      return interruptible(signal, run, () => statement && new Promise<void>((resolve) => statement!.cancel(() => resolve())));
    });
  }
}

/** Rows a DML statement changed, where the driver reports them. */
function changedRows(stmt: snowflake.RowStatement): { rowsChanged?: number } {
  const changed = stmt.getNumUpdatedRows();
  return typeof changed === 'number' && Number.isFinite(changed) ? { rowsChanged: changed } : {};
}

function connectionOptions(options: SnowflakeWarehouseOptions): snowflake.ConnectionOptions {
  const base: snowflake.ConnectionOptions = {
    account: options.account,
    username: options.username,
    warehouse: options.warehouse,
    database: options.database,
    schema: options.schema,
    ...(options.role ? { role: options.role } : {}),
    ...(options.accessUrl ? { accessUrl: options.accessUrl } : {}),
    // Numbers are fetched as text (see numberFromText); with these the driver neither
    // turns a NULL number into the string 'NULL' nor warns about digits it would lose.
    representNullAsStringNull: false,
    jsTreatIntegerAsBigInt: true,
  };
  if (options.auth.kind === 'password') {
    if (!options.auth.password) throw configError('SNOWFLAKE_PASSWORD is empty');
    return { ...base, authenticator: 'SNOWFLAKE', password: options.auth.password };
  }
  return { ...base, authenticator: 'SNOWFLAKE_JWT', privateKey: loadPrivateKey(options.auth) };
}

/**
 * Checks a key-pair configuration and returns the key as unencrypted PKCS#8
 * PEM for the driver. Every message names the setting to fix and never the
 * key material.
 */
export function loadPrivateKey(auth: { privateKeyPath?: string; privateKey?: string; passphrase?: string }): string {
  let pem: string;
  let source: string;
  if (auth.privateKey) {
    pem = auth.privateKey;
    source = 'the private key given';
  } else if (auth.privateKeyPath) {
    source = `SNOWFLAKE_PRIVATE_KEY_PATH (${auth.privateKeyPath})`;
    try {
      pem = readFileSync(auth.privateKeyPath, 'utf8');
    } catch (err) {
      throw configError(`${source}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? messageOf(err)})`);
    }
  } else {
    throw configError('key-pair auth needs SNOWFLAKE_PRIVATE_KEY_PATH (a PKCS#8 PEM file)');
  }
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw configError(`${source}: not a PEM private key (expected a "-----BEGIN PRIVATE KEY-----" or "-----BEGIN ENCRYPTED PRIVATE KEY-----" block)`);
  }
  const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem);
  if (encrypted && !auth.passphrase) {
    throw configError(`${source}: the key is encrypted; set SNOWFLAKE_PRIVATE_KEY_PASSPHRASE`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', ...(auth.passphrase ? { passphrase: auth.passphrase } : {}) });
  } catch {
    throw configError(
      encrypted ? `${source}: cannot decrypt the key; check SNOWFLAKE_PRIVATE_KEY_PASSPHRASE` : `${source}: the PEM block is not a readable private key`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw configError(`${source}: Snowflake key-pair auth needs an RSA key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048) throw configError(`${source}: the RSA key has ${bits} bits; Snowflake needs at least 2048`);
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function configError(message: string): NonRetryableError {
  return new NonRetryableError(WarehouseErrorType.ConfigError, `Snowflake configuration: ${message}`);
}

/** JSON, so QUERY_HISTORY can be filtered with PARSE_JSON(query_tag):use_case. */
export function queryTag(ctx: QueryContext): string {
  const tag: Record<string, string> = { app: 'aimo' };
  if (ctx.useCase) tag['use_case'] = ctx.useCase.slice(0, 500);
  if (ctx.workflowId) tag['workflow_id'] = ctx.workflowId.slice(0, 500);
  return JSON.stringify(tag).slice(0, QUERY_TAG_MAX);
}

function toBind(value: SqlValue): snowflake.Bind {
  if (value instanceof Date) return snowflakeTimestampText(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * The driver binds a Date as ISO text with a `Z`. Sent instead as UTC
 * `YYYY-MM-DD HH24:MI:SS.FF3`, the form Snowflake's AUTO input format reads
 * both as TIMESTAMP_NTZ and, through CAST, as DATE.
 */
function snowflakeTimestampText(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '');
}

// ---------------------------------------------------------------------------
// Results

/**
 * Snowflake folds unquoted identifiers to upper case, so `SELECT count(*) AS n`
 * comes back as `N`. aimo quotes its identifiers in lower case, so a name
 * without lower-case letters is folded back; a deliberately quoted mixed-case
 * name (`"MiXed"`) keeps its case.
 */
export function resultColumnName(name: string): string {
  return name === name.toUpperCase() ? name.toLowerCase() : name;
}

function toRows(columns: snowflake.Column[], rows: unknown[][]): Row[] {
  const names = columns.map((c) => resultColumnName(c.getName()));
  return rows.map((values) => {
    const row: Row = {};
    columns.forEach((column, i) => {
      row[names[i]!] = normaliseValue(values[i], column);
    });
    return row;
  });
}

function normaliseValue(value: unknown, column: snowflake.Column): unknown {
  if (value === null || value === undefined) return null;
  if (column.isNumber() && typeof value === 'string') return numberFromText(value, column.getScale());
  // The driver's dates carry formatting helpers; callers get plain Dates.
  if (value instanceof Date) return new Date(value.getTime());
  return value;
}

/** Integers beyond 2^53 stay exact as strings, as DuckDbWarehouse returns them. */
function numberFromText(text: string, scale: number): number | string {
  if (scale === 0 && /^-?\d+$/.test(text)) {
    const n = BigInt(text);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(n) : text;
  }
  return Number(text);
}

// ---------------------------------------------------------------------------
// Sessions

/**
 * A few logged-in sessions, reused. A single serialised session would make a
 * ten-minute feature build block a drift check running beside it in the same
 * worker; one session per statement would pay a login (and, with key-pair
 * auth, a JWT) each time. A session that failed with a transient error is
 * dropped rather than reused, and an idle one is logged out after a while so
 * the pool never holds an expired session. snowflake-sdk ships a pool too,
 * but it replaces login errors with their bare message (losing the error code
 * that tells bad credentials from an outage) and heartbeats on every borrow.
 */
class SessionPool {
  private readonly idle: { conn: snowflake.Connection; since: number }[] = [];
  private readonly waiters: (() => void)[] = [];
  private open = 0;
  private closed = false;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly options: snowflake.ConnectionOptions,
    private readonly max: number,
    private readonly idleMillis: number,
  ) {
    this.sweeper = setInterval(() => this.sweepIdle(), Math.max(1000, Math.min(idleMillis, 30_000)));
    this.sweeper.unref();
  }

  async use<T>(fn: (conn: snowflake.Connection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    let reusable = true;
    try {
      return await fn(conn);
    } catch (err) {
      reusable = err instanceof NonRetryableError;
      throw err;
    } finally {
      this.release(conn, reusable);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const idle = this.idle.splice(0);
    await Promise.all(idle.map(({ conn }) => this.discard(conn)));
    this.waiters.splice(0).forEach((wake) => wake());
  }

  private async acquire(): Promise<snowflake.Connection> {
    for (;;) {
      if (this.closed) throw new NonRetryableError(WarehouseErrorType.ConfigError, 'Snowflake warehouse is closed');
      const idle = this.idle.pop();
      if (idle) {
        if (idle.conn.isUp()) return idle.conn;
        void this.discard(idle.conn);
        continue;
      }
      if (this.open < this.max) {
        this.open++;
        try {
          return await this.connect();
        } catch (err) {
          this.open--;
          this.wakeOne();
          throw err;
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private connect(): Promise<snowflake.Connection> {
    const conn = snowflake.createConnection(this.options);
    return new Promise((resolve, reject) => {
      conn.connect((err) => (err ? reject(classifySnowflakeError(err)) : resolve(conn)));
    });
  }

  private release(conn: snowflake.Connection, reusable: boolean): void {
    if (this.closed || !reusable) void this.discard(conn);
    else {
      this.idle.push({ conn, since: Date.now() });
      this.wakeOne();
    }
  }

  private discard(conn: snowflake.Connection): Promise<void> {
    this.open--;
    this.wakeOne();
    return new Promise((resolve) => conn.destroy(() => resolve()));
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - this.idleMillis;
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const entry = this.idle[i]!;
      if (entry.since < cutoff) {
        this.idle.splice(i, 1);
        void this.discard(entry.conn);
      }
    }
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }
}

// ---------------------------------------------------------------------------
// Errors

/** Server error codes whose meaning the SQLSTATE alone does not give. */
const CODE_VERDICTS: Record<string, Verdict> = {
  '002003': stop(WarehouseErrorType.MissingTable), // object does not exist or not authorized
  '003001': stop(WarehouseErrorType.PermissionDenied), // insufficient privileges
  '000606': stop(WarehouseErrorType.ConfigError), // no active warehouse selected
  '000630': retry, // statement reached its timeout
  '000604': retry, // statement cancelled
  '000603': retry, // internal error
  '000625': retry, // statement aborted, e.g. warehouse resized or suspended
  '390100': stop(WarehouseErrorType.AuthenticationFailed), // incorrect username or password
  '390101': stop(WarehouseErrorType.AuthenticationFailed), // user not found
  '390102': stop(WarehouseErrorType.AuthenticationFailed), // user disabled / locked
  '390144': stop(WarehouseErrorType.AuthenticationFailed), // JWT invalid: key not registered for the user
  '390189': stop(WarehouseErrorType.PermissionDenied), // role not granted to the user
  '390201': stop(WarehouseErrorType.ConfigError), // warehouse / database / schema does not exist or not authorized
  '390112': retry, // session expired: a new session is opened
  '390114': retry, // authentication token expired
};

/** Driver-side codes (snowflake-sdk ErrorCode): the request never got a usable answer. */
const DRIVER_TRANSIENT_CODES = new Set([401001, 401002, 401003, 401004, 402001, 402002, 407002]);

/**
 * snowflake-sdk errors carry a Snowflake error `code` (a 6-digit string),
 * usually a SQLSTATE, and for HTTP failures the response. SQLSTATE class 08
 * (connection) and 57 (cancelled) are retried; 42 (syntax, access, missing
 * object), 22 (data) and 23 (constraint) are not.
 */
export function classifySnowflakeError(err: unknown): Error {
  if (err instanceof NonRetryableError) return err;
  const message = messageOf(err);
  return warehouseFailure('Snowflake', snowflakeVerdict(err), message, err);
}

function snowflakeVerdict(err: unknown): Verdict {
  if (isNetworkFailure(err)) return retry;
  const e = (err ?? {}) as { code?: unknown; sqlState?: unknown; response?: { statusCode?: unknown } };
  const code = typeof e.code === 'number' ? e.code : typeof e.code === 'string' ? e.code : undefined;
  if (typeof code === 'number' && DRIVER_TRANSIENT_CODES.has(code)) {
    const status = e.response?.statusCode;
    return typeof status === 'number' ? (verdictForHttpStatus(status) ?? retry) : retry;
  }
  if (typeof code === 'string' && CODE_VERDICTS[code]) return CODE_VERDICTS[code];
  const sqlState = typeof e.sqlState === 'string' ? e.sqlState : '';
  if (sqlState === '42S02') return stop(WarehouseErrorType.MissingTable);
  if (sqlState === '42501') return stop(WarehouseErrorType.PermissionDenied);
  if (/^(08|57|40|XX)/.test(sqlState)) return retry;
  if (/^(42|22|23|0A|21|2B|3D|3F)/.test(sqlState)) return stop(WarehouseErrorType.QueryError);
  if (typeof code === 'string' && /^39\d{4}$/.test(code)) return stop(WarehouseErrorType.AuthenticationFailed);
  if (typeof code === 'number' && code >= 404001 && code < 410000) return stop(WarehouseErrorType.ConfigError);
  return retry;
}
