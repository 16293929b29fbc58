import type { Dialect } from './dialect';
import type { TableRef } from '../domain/table-ref';
import type { SqlParams } from './params';

export type Row = Record<string, unknown>;

export interface ColumnInfo {
  readonly name: string;
  /** The warehouse's own type name, upper-case */
  readonly type: string;
  readonly nullable: boolean;
}

/** One table or view of a schema, as listTables reports it. */
export interface ListedTable {
  readonly name: string;
  readonly kind: 'table' | 'view';
  /** Where the warehouse keeps one (BigQuery, Snowflake; not DuckDB) */
  readonly createdAt?: Date;
  /** A view's SQL */
  readonly definition?: string;
}

/** Who is asking: carried into job labels / query tags so cost is attributable. */
export interface QueryContext {
  readonly useCase?: string;
  readonly workflowId?: string;
  /** Bytes a single query may scan; over it the query is refused before it runs */
  readonly maxBytesScanned?: number;
  /** Stops the statement where the warehouse can interrupt it; by default the running activity's cancellation (warehouse/cancellation.ts) */
  readonly signal?: AbortSignal;
}

/**
 * The warehouse as aimo needs it. SQL text uses `@name` placeholders and
 * values always travel as bound parameters. All results come back as plain
 * JS values (numbers, strings, booleans, Dates, null).
 */
export interface Warehouse {
  readonly dialect: Dialect;
  query<T extends Row = Row>(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<T[]>;
  execute(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<void>;
  tableExists(table: TableRef): Promise<boolean>;
  /** Columns in table order; a missing table is a non-retryable error naming it */
  columns(table: TableRef): Promise<ColumnInfo[]>;
  /** Idempotent: the table ends up holding exactly the SELECT's rows */
  createOrReplaceTableAs(table: TableRef, select: string, params?: SqlParams, ctx?: QueryContext): Promise<void>;
  /** Idempotent upsert of a SELECT's rows into an existing table */
  merge(
    table: TableRef,
    source: string,
    keys: readonly string[],
    columns: readonly string[],
    params?: SqlParams,
    ctx?: QueryContext,
  ): Promise<void>;
  close(): Promise<void>;
}

/** The statements every adapter derives from its dialect, shared by all of them. */
export abstract class DialectWarehouse implements Warehouse {
  abstract readonly dialect: Dialect;
  abstract query<T extends Row = Row>(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<T[]>;
  abstract execute(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<void>;
  abstract tableExists(table: TableRef): Promise<boolean>;
  abstract columns(table: TableRef): Promise<ColumnInfo[]>;
  abstract close(): Promise<void>;

  createOrReplaceTableAs(table: TableRef, select: string, params: SqlParams = {}, ctx?: QueryContext): Promise<void> {
    return this.execute(this.dialect.createOrReplaceTableAs(table, select), params, ctx);
  }

  merge(
    table: TableRef,
    source: string,
    keys: readonly string[],
    columns: readonly string[],
    params: SqlParams = {},
    ctx?: QueryContext,
  ): Promise<void> {
    return this.execute(this.dialect.merge(table, source, keys, columns), params, ctx);
  }
}

/**
 * The base tables and views of a schema, by name, on every warehouse: two
 * INFORMATION_SCHEMA queries the dialect writes. A function over the
 * interface rather than a method of it, so every Warehouse (scoped,
 * worker-hosted, recording) lists tables without implementing anything.
 */
export async function listTables(wh: Warehouse, schema: string, ctx?: QueryContext): Promise<ListedTable[]> {
  type Listed = { table_schema: string; table_name: string; created_at?: unknown; view_definition?: string | null };
  const [tables, views] = await Promise.all([
    wh.query<Listed>(wh.dialect.listTables(schema), { schema }, ctx).then(inExactSchema(schema)),
    wh.query<Listed>(wh.dialect.listViews(schema), { schema }, ctx).then(inExactSchema(schema)),
  ]);
  const listed: ListedTable[] = [
    ...tables.map((r) => {
      // new Date(value) rather than instanceof: a Date from a worker thread belongs to another realm.
      const created = r.created_at === null || r.created_at === undefined ? undefined : new Date(r.created_at as Date | string);
      return { name: r.table_name, kind: 'table' as const, ...(created && !Number.isNaN(created.getTime()) ? { createdAt: created } : {}) };
    }),
    ...views.map((r) => ({ name: r.table_name, kind: 'view' as const, ...(r.view_definition ? { definition: r.view_definition } : {}) })),
  ];
  // By code unit, not locale: the same order on every worker.
  return listed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Snowflake's listing matches the schema ignoring case (see SnowflakeDialect):
 * rows of the exact name win, else those of the one schema found.
 */
function inExactSchema(schema: string) {
  return <T extends { table_schema: string }>(rows: T[]): T[] => {
    const exact = rows.filter((r) => r.table_schema === schema);
    return exact.length > 0 || new Set(rows.map((r) => r.table_schema)).size !== 1 ? exact : rows;
  };
}
