import { NonRetryableError } from './errors';

/**
 * Identifiers are the one part of SQL we cannot bind as parameters, so every
 * identifier that reaches SQL text passes through this check first.
 */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function assertIdentifier(name: string, what = 'identifier'): string {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new NonRetryableError(
      'InvalidIdentifier',
      `${what} ${JSON.stringify(name)} is not a valid SQL identifier: use letters, digits and underscores, starting with a letter or underscore (at most 128 characters)`,
    );
  }
  return name;
}

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name);
}

/** A table name, optionally in a schema (DuckDB schema, BigQuery dataset, Snowflake schema). */
export interface TableRef {
  readonly name: string;
  readonly schema?: string;
}

export function tableRef(name: string, schema?: string): TableRef {
  assertIdentifier(name, 'table name');
  if (schema !== undefined) assertIdentifier(schema, 'schema name');
  return schema === undefined ? { name } : { name, schema };
}

/** How a table is named to people: schema.name. */
export function formatTable(ref: TableRef): string {
  return ref.schema ? `${ref.schema}.${ref.name}` : ref.name;
}

/**
 * A table reference as stored in the registry's lineage or recorded in a
 * running workflow's history: typed since tables became TableRefs, the text
 * `schema.name` before. The one place that text is read back.
 */
export function storedTableRef(value: TableRef | string): TableRef {
  if (typeof value !== 'string') return tableRef(value.name, value.schema);
  const [schema, name, extra] = value.split('.');
  if (!name || extra !== undefined) throw new NonRetryableError('InvalidIdentifier', `stored table ${JSON.stringify(value)} is not of the form schema.name`);
  return tableRef(name, schema);
}
