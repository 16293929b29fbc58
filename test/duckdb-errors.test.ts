import { isNonRetryable } from '../domain/errors';
import { classifyDuckDbError } from '../warehouse/duckdb';

/** DuckDB's own messages, as its engine words them, sorted into retry or stop. */
describe('DuckDB error classification', () => {
  it.each([
    'TransactionContext Error: Catalog write-write conflict on create with "aimo"',
    'TransactionContext Error: Failed to commit: Transaction conflict: cannot update a table that has been altered!',
    'IO Error: Could not set lock on file "data/aimo.duckdb": Conflicting lock is held',
  ])('retries %s', (message) => {
    expect(isNonRetryable(classifyDuckDbError(new Error(message)))).toBe(false);
  });

  it.each([
    ['Catalog Error: Table with name orders_missing does not exist!', 'MissingTable'],
    ['Parser Error: syntax error at or near "SELEC"', 'WarehouseQueryError'],
    ['Binder Error: Referenced column "revenu" not found in FROM clause!', 'WarehouseQueryError'],
  ])('stops on %s', (message, type) => {
    const error = classifyDuckDbError(new Error(message));
    expect(isNonRetryable(error)).toBe(true);
    expect((error as Error & { type: string }).type).toBe(type);
    expect(error.message).toContain(message);
  });
});
