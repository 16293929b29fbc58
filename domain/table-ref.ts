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
