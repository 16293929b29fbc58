import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { NonRetryableError } from '../domain/errors';
import { DuckDbDialect } from './dialect';
import type { TableRef } from '../domain/table-ref';
import { compileParams, type SqlParams, type SqlValue } from './params';
import { ConcurrencyLimit } from './limiter';
import { interruptible, querySignal } from './cancellation';
import { reportStatement } from './statement-stats';
import { DialectWarehouse, type ColumnInfo, type QueryContext, type Row } from './warehouse';

export interface DuckDbOptions {
  readonly threads?: number;
  /** DuckDB's memory_limit, e.g. '4GB'; DuckDB's own default is 80 % of the machine */
  readonly memoryLimit?: string;
  /** Where DuckDB spills past the memory limit; default: beside the database file (in memory: none) */
  readonly tempDirectory?: string;
  /** Queries run at once; more wait their turn in order */
  readonly maxConcurrentQueries?: number;
}

/**
 * Every query keeps DuckDB's threads busy, so more than a few at once only
 * share the same cores and add memory; the rest wait in the adapter, not in
 * Temporal's activity slots.
 */
export const DEFAULT_CONCURRENT_QUERIES = 4;

/**
 * DuckDB, embedded: a file in the data folder, or `:memory:` in tests. One
 * instance per process (DuckDB locks its file); each call gets its own
 * connection so concurrent activities do not serialise on one.
 */
export class DuckDbWarehouse extends DialectWarehouse {
  readonly dialect = new DuckDbDialect();

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly limit: ConcurrencyLimit,
  ) {
    super();
  }

  static async open(path: string, options: DuckDbOptions = {}): Promise<DuckDbWarehouse> {
    const config: Record<string, string> = {};
    if (options.threads) config['threads'] = String(options.threads);
    // DuckDB spills sorts, joins and aggregates past its memory limit to temp_directory, so a scan of
    // any size finishes within the limit instead of failing or taking the machine's memory.
    if (options.memoryLimit) config['memory_limit'] = assertSize(options.memoryLimit);
    if (options.tempDirectory) config['temp_directory'] = options.tempDirectory;
    const instance = await DuckDBInstance.create(path, config);
    return new DuckDbWarehouse(instance, new ConcurrencyLimit(options.maxConcurrentQueries ?? DEFAULT_CONCURRENT_QUERIES));
  }

  async query<T extends Row = Row>(sql: string, params: SqlParams = {}, ctx: QueryContext = {}): Promise<T[]> {
    return this.withConnection(querySignal(ctx), async (conn) => {
      const compiled = compileParams(sql, params, 'dollar');
      const reader = await runWithErrors(conn, compiled.sql, toDuckValues(compiled.named));
      const rows = reader.getRowObjectsJS().map((row) => normaliseRow(row) as T);
      reportStatement({ warehouse: 'duckdb', kind: 'query', rowsReturned: rows.length, ...useCaseOf(ctx) });
      return rows;
    });
  }

  async execute(sql: string, params: SqlParams = {}, ctx: QueryContext = {}): Promise<void> {
    await this.withConnection(querySignal(ctx), async (conn) => {
      const compiled = compileParams(sql, params, 'dollar');
      const reader = await runWithErrors(conn, compiled.sql, toDuckValues(compiled.named));
      reportStatement({ warehouse: 'duckdb', kind: 'execute', rowsChanged: rowsChangedBy(reader), ...useCaseOf(ctx) });
    });
  }

  async tableExists(table: TableRef): Promise<boolean> {
    const rows = await this.query<{ n: number }>(
      `SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = @schema AND table_name = @name`,
      { schema: table.schema ?? 'main', name: table.name },
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  async columns(table: TableRef): Promise<ColumnInfo[]> {
    const rows = await this.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_schema = @schema AND table_name = @name ORDER BY ordinal_position`,
      { schema: table.schema ?? 'main', name: table.name },
    );
    if (rows.length === 0) throw missingTable(table);
    return rows.map((r) => ({ name: r.column_name, type: r.data_type.toUpperCase(), nullable: r.is_nullable === 'YES' }));
  }

  async close(): Promise<void> {
    this.instance.closeSync();
  }

  private async withConnection<T>(signal: AbortSignal | undefined, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    return this.limit.run(async () => {
      const conn = await this.instance.connect();
      try {
        // A cancelled activity's statement is interrupted in DuckDB, which frees its threads at once.
        return await interruptible(signal, () => fn(conn), () => conn.interrupt());
      } finally {
        conn.closeSync();
      }
    });
  }
}

/** DuckDB counts DML in rowsChanged; CREATE TABLE AS reports its rows only in a one-row `Count` result. */
function rowsChangedBy(reader: Awaited<ReturnType<typeof runWithErrors>>): number {
  if (reader.rowsChanged > 0) return reader.rowsChanged;
  const names = reader.columnNames();
  if (names.length !== 1 || names[0] !== 'Count') return 0;
  const rows = reader.getRowsJS();
  return rows.length === 1 ? Number(rows[0]![0] ?? 0) : 0;
}

function useCaseOf(ctx: QueryContext): { useCase?: string } {
  return ctx.useCase ? { useCase: ctx.useCase } : {};
}

function assertSize(size: string): string {
  if (!/^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(size)) {
    throw new NonRetryableError('InvalidArgument', `DuckDB memory limit ${JSON.stringify(size)} is not a size such as 4GB or 512MiB`);
  }
  return size;
}

export function missingTable(table: TableRef): NonRetryableError {
  const name = table.schema ? `${table.schema}.${table.name}` : table.name;
  return new NonRetryableError('MissingTable', `table ${name} does not exist: create it or fix the table name in the plan`);
}

async function runWithErrors(conn: DuckDBConnection, sql: string, values: Record<string, SqlValueForDuck>) {
  try {
    return await conn.runAndReadAll(sql, values);
  } catch (err) {
    throw classifyDuckDbError(err);
  }
}

type SqlValueForDuck = string | number | bigint | boolean | null;

/**
 * DuckDB errors are about the statement (syntax, catalog, binder, constraint,
 * conversion): retrying the same SQL cannot help. IO errors may be transient,
 * and so is losing a race to a concurrent transaction (optimistic concurrency
 * control aborts the later writer; the same statement succeeds on a retry).
 */
export function classifyDuckDbError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/^(IO|Interrupt|Out of Memory) Error/i.test(message) || /TransactionContext Error|write-write conflict|Transaction conflict/i.test(message)) {
    return err instanceof Error ? err : new Error(message);
  }
  const type = /Catalog Error: Table with name/i.test(message) ? 'MissingTable' : 'WarehouseQueryError';
  return new NonRetryableError(type, `DuckDB: ${message}`);
}

function toDuckValues(named: Record<string, SqlValue>): Record<string, SqlValueForDuck> {
  const out: Record<string, SqlValueForDuck> = {};
  for (const [k, v] of Object.entries(named)) out[k] = v instanceof Date ? v.toISOString() : v;
  return out;
}

function normaliseRow(row: Record<string, unknown>): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) out[k] = normaliseValue(v);
  return out;
}

function normaliseValue(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  return v;
}
