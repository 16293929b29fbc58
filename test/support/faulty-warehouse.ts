import type { TableRef } from '../../domain/table-ref';
import type { SqlParams } from '../../warehouse/params';
import type { ColumnInfo, QueryContext, Row, Warehouse } from '../../warehouse/warehouse';

/**
 * A warehouse whose writes fail now and then, as a real one's do: half of the
 * faults before the statement runs, half after it committed (the caller
 * never hears it succeeded). Which writes fail follows a seeded sequence, so
 * a run is repeatable. Reads pass: a failed read is a retry like a write
 * failed before it ran, and no half-done state can hide behind one.
 */
export class FaultyWarehouse implements Warehouse {
  readonly faults = { before: 0, after: 0 };
  private state: number;

  constructor(
    private readonly inner: Warehouse,
    private readonly share: number,
    seed = 1,
  ) {
    this.state = seed >>> 0 || 1;
  }

  get dialect() {
    return this.inner.dialect;
  }

  query<T extends Row = Row>(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<T[]> {
    return this.inner.query<T>(sql, params, ctx);
  }

  execute(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    return this.faulty(() => this.inner.execute(sql, params, ctx));
  }

  createOrReplaceTableAs(table: TableRef, select: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    return this.faulty(() => this.inner.createOrReplaceTableAs(table, select, params, ctx));
  }

  merge(table: TableRef, source: string, keys: readonly string[], columns: readonly string[], params?: SqlParams, ctx?: QueryContext): Promise<void> {
    return this.faulty(() => this.inner.merge(table, source, keys, columns, params, ctx));
  }

  tableExists(table: TableRef): Promise<boolean> {
    return this.inner.tableExists(table);
  }

  columns(table: TableRef): Promise<ColumnInfo[]> {
    return this.inner.columns(table);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async faulty<T>(call: () => Promise<T>): Promise<T> {
    const r = this.next();
    if (r < this.share / 2) {
      this.faults.before++;
      throw new Error('injected warehouse fault before the statement ran (connection reset)');
    }
    const result = await call();
    if (r < this.share) {
      this.faults.after++;
      throw new Error('injected warehouse fault after the statement committed (response lost)');
    }
    return result;
  }

  /** xorshift32 in [0, 1) */
  private next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }
}
