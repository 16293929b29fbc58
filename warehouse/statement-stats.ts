import type { DialectName } from './dialect';

/**
 * What a warehouse driver says about a statement it ran, as far as it can
 * tell: DuckDB knows the rows a query returned and the rows a statement
 * changed, BigQuery the bytes its job processed (what it bills) and the rows
 * returned or changed, Snowflake the rows returned and, for DML, changed
 * (its bytes scanned live in QUERY_HISTORY, which the driver does not hand
 * back per statement).
 */
export interface StatementStats {
  readonly warehouse: DialectName;
  /** query: a SELECT whose rows came back; execute: DDL or DML */
  readonly kind: 'query' | 'execute';
  readonly rowsReturned?: number;
  readonly rowsChanged?: number;
  readonly bytesScanned?: number;
  /** From the statement's query context */
  readonly useCase?: string;
}

export type StatementListener = (stats: StatementStats) => void;

const listeners = new Set<StatementListener>();

/**
 * Listens to every statement any adapter in this process runs (the metrics
 * registry counts them); returns the function that stops listening.
 */
export function onStatement(listener: StatementListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Called by the adapters after a statement succeeded. A listener's fault never fails the statement. */
export function reportStatement(stats: StatementStats): void {
  for (const listener of listeners) {
    try {
      listener(stats);
    } catch {
      // Counting is best effort: the statement already ran.
    }
  }
}
