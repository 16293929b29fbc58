import { NonRetryableError } from '../domain/errors';
import type { Dialect } from '../warehouse/dialect';
import { assertIdentifier } from '../domain/table-ref';
import type { SqlParams, SqlValue } from '../warehouse/params';

/** Restricts an analysis to the rows where `column = value`, e.g. split = 'holdout'. The value is bound, never inlined. */
export interface RowFilter {
  readonly column: string;
  readonly value: string | number | boolean;
}

export interface SqlCondition {
  readonly sql: string;
  readonly params: SqlParams;
}

/** A WHERE condition for an optional filter, with its value bound as @`param`. */
export function filterCondition(dialect: Dialect, filter: RowFilter | undefined, param = 'aimo_filter_value', qualifier?: string): SqlCondition {
  if (!filter) return { sql: '1 = 1', params: {} };
  const column = qualifiedColumn(dialect, filter.column, qualifier);
  return { sql: `${column} = @${param}`, params: { [param]: filter.value as SqlValue } };
}

/**
 * `qualifier.column`. The qualifier is a table alias of the query, written
 * unquoted like the alias itself (a quoted alias would stop matching on
 * Snowflake, which upper-cases unquoted names), so it is validated instead.
 */
export function qualifiedColumn(dialect: Dialect, column: string, qualifier?: string): string {
  return qualifier === undefined ? dialect.quote(column) : `${assertIdentifier(qualifier, 'table alias')}.${dialect.quote(column)}`;
}

/**
 * A finite number as a DOUBLE literal. Model coefficients travel into SQL this
 * way: they are numbers aimo computed, checked here, and the exponent form
 * round-trips every double exactly (a plain decimal could be read as DECIMAL).
 */
export function sqlNumber(dialect: Dialect, value: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new NonRetryableError('InvalidNumber', `cannot write ${String(value)} into SQL: only finite numbers are allowed`);
  }
  return dialect.cast(value.toExponential(), 'float');
}

/** Warehouses return counts as numbers, big integers or numeric strings; aggregates of nothing as null. */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}

/**
 * 1 / (1 + e^−eta) in SQL without ever exponentiating a positive number
 * (BigQuery raises an error on EXP overflow). `eta` should be a column or alias:
 * it appears three times.
 */
export function sqlLogistic(eta: string): string {
  return `CASE WHEN ${eta} >= 0 THEN 1.0 / (1.0 + EXP(-(${eta}))) ELSE EXP(${eta}) / (1.0 + EXP(${eta})) END`;
}

/** ln(1 + e^eta) in SQL, stable for large |eta|: the log-loss of a logistic model is softplus(eta) − y·eta. */
export function sqlSoftplus(eta: string): string {
  return `CASE WHEN ${eta} > 0 THEN ${eta} + LN(1.0 + EXP(-(${eta}))) ELSE LN(1.0 + EXP(${eta})) END`;
}

export function assertDistinct(names: readonly string[], what: string): void {
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new NonRetryableError('InvalidArgument', `${what} lists "${n}" twice`);
    seen.add(n);
  }
}
