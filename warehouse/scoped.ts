import type { TableRef } from '../domain/table-ref';
import type { SqlParams } from './params';
import type { ColumnInfo, QueryContext, Row, Warehouse } from './warehouse';

/**
 * The same warehouse with a default query context: every statement run
 * through it carries the use case, the workflow and the byte budget of the
 * step that asked, so code that knows nothing of plans (training, drift,
 * quality checks) is still labelled and held to the budget. A context passed
 * to a call is merged over the defaults.
 */
export function withQueryContext(warehouse: Warehouse, defaults: QueryContext): Warehouse {
  const merged = (ctx?: QueryContext): QueryContext => ({ ...defaults, ...ctx });
  return {
    dialect: warehouse.dialect,
    query: <T extends Row = Row>(sql: string, params?: SqlParams, ctx?: QueryContext) => warehouse.query<T>(sql, params, merged(ctx)),
    execute: (sql: string, params?: SqlParams, ctx?: QueryContext) => warehouse.execute(sql, params, merged(ctx)),
    tableExists: (table: TableRef) => warehouse.tableExists(table),
    columns: (table: TableRef): Promise<ColumnInfo[]> => warehouse.columns(table),
    createOrReplaceTableAs: (table: TableRef, select: string, params?: SqlParams, ctx?: QueryContext) =>
      warehouse.createOrReplaceTableAs(table, select, params, merged(ctx)),
    merge: (table: TableRef, source: string, keys: readonly string[], columns: readonly string[], params?: SqlParams, ctx?: QueryContext) =>
      warehouse.merge(table, source, keys, columns, params, merged(ctx)),
    // The connection belongs to the worker, not to the step that borrowed it.
    close: async () => undefined,
  };
}
