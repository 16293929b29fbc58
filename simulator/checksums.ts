import type { Warehouse } from '../warehouse/warehouse';
import { assertIdentifier } from '../domain/table-ref';
import { assertDuckDb } from './context';

/**
 * A checksum per table of a schema: `<rows>:<sum of row hashes>`. Each whole
 * row is hashed (64 bits) and the hashes are summed as 128-bit integers, so
 * the result does not depend on row order or on how the warehouse
 * parallelises the scan, and a duplicated row changes it (a XOR would cancel
 * out). Equal checksums mean equal multisets of rows, with overwhelming
 * probability. DuckDB's row hash is fast but only stable within one DuckDB
 * version: compare checksums computed by the same build, as tests do.
 */
export async function tableChecksums(wh: Warehouse, schema: string, tables?: readonly string[]): Promise<Record<string, string>> {
  assertDuckDb(wh);
  assertIdentifier(schema, 'schema name');
  const names =
    tables ??
    (
      await wh.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = @schema AND table_type = 'BASE TABLE' ORDER BY table_name`,
        { schema },
      )
    ).map((r) => r.table_name);
  const out: Record<string, string> = {};
  for (const name of names) {
    const table = wh.dialect.table({ schema, name });
    const [row] = await wh.query<{ n: number; s: string }>(
      `SELECT COUNT(*) AS n,
              CAST(COALESCE(SUM(CAST(hash(t) AS HUGEINT)), 0) AS VARCHAR) AS s
       FROM ${table} AS t`,
    );
    out[name] = `${row?.n ?? 0}:${row?.s ?? '0'}`;
  }
  return out;
}
