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

/** Who is asking: carried into job labels / query tags so cost is attributable. */
export interface QueryContext {
  readonly useCase?: string;
  readonly workflowId?: string;
  /** Bytes a single query may scan; over it the query is refused before it runs */
  readonly maxBytesScanned?: number;
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
