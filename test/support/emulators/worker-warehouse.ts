import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { NonRetryableError } from '../../../domain/errors';
import { BigQueryDialect } from '../../../warehouse/dialect';
import type { BigQueryWarehouseOptions } from '../../../warehouse/bigquery';
import type { TableRef } from '../../../domain/table-ref';
import type { SqlParams } from '../../../warehouse/params';
import type { ColumnInfo, QueryContext, Row, Warehouse } from '../../../warehouse/warehouse';
import type { HostCall, HostCancel, HostReply, SerialisedError } from './warehouse-host';
import { querySignal } from '../../../warehouse/cancellation';

/**
 * A BigQueryWarehouse running in a worker thread, driven from a Jest test.
 *
 * Jest runs test code in a VM context where `import()` of an ES module fails
 * unless Node runs with --experimental-vm-modules. The BigQuery client's
 * HTTP layer (teeny-request) imports node-fetch that way on every request,
 * so inside Jest every call would fail before reaching the emulator. In a
 * worker thread the adapter runs in plain Node, exactly as in an aimo
 * worker; only calls and results cross the thread boundary (Dates and
 * bigints survive it; errors are rebuilt with their non-retryable type).
 */
export class WorkerHostedBigQuery implements Warehouse {
  readonly dialect: BigQueryDialect;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();

  private constructor(
    private readonly worker: Worker,
    options: BigQueryWarehouseOptions,
  ) {
    this.dialect = new BigQueryDialect(options.projectId, options.dataset);
    worker.on('message', (reply: HostReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiting.resolve(reply.value);
      else waiting.reject(rebuild(reply.error));
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new Error(`the BigQuery worker thread exited (code ${code})`)));
  }

  static async open(options: BigQueryWarehouseOptions): Promise<WorkerHostedBigQuery> {
    const host = join(__dirname, 'warehouse-host.ts');
    // Plain CommonJS evaluated by Node in the worker: register tsx, then load the TypeScript host.
    const bootstrap = `require('tsx/cjs/api').register(); require(${JSON.stringify(host)});`;
    const worker = new Worker(bootstrap, { eval: true, workerData: { options } });
    const warehouse = new WorkerHostedBigQuery(worker, options);
    await warehouse.call('ensureDataset');
    return warehouse;
  }

  query<T extends Row = Row>(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<T[]> {
    return this.cancellable(ctx, (plain) => this.call('query', sql, params, plain)) as Promise<T[]>;
  }

  async execute(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    await this.cancellable(ctx, (plain) => this.call('execute', sql, params, plain));
  }

  estimateBytes(sql: string, params?: SqlParams, ctx?: QueryContext): Promise<number> {
    return this.cancellable(ctx, (plain) => this.call('estimateBytes', sql, params, plain)) as Promise<number>;
  }

  tableExists(table: TableRef): Promise<boolean> {
    return this.call('tableExists', table) as Promise<boolean>;
  }

  columns(table: TableRef): Promise<ColumnInfo[]> {
    return this.call('columns', table) as Promise<ColumnInfo[]>;
  }

  async createOrReplaceTableAs(table: TableRef, select: string, params?: SqlParams, ctx?: QueryContext): Promise<void> {
    await this.cancellable(ctx, (plain) => this.call('createOrReplaceTableAs', table, select, params, plain));
  }

  async merge(
    table: TableRef,
    source: string,
    keys: readonly string[],
    columns: readonly string[],
    params?: SqlParams,
    ctx?: QueryContext,
  ): Promise<void> {
    await this.cancellable(ctx, (plain) => this.call('merge', table, source, keys, columns, params, plain));
  }

  async close(): Promise<void> {
    await this.call('close');
    await this.worker.terminate();
  }

  private call(method: string, ...args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    this.lastId = id;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, method, args } satisfies HostCall);
    });
  }

  private lastId = 0;

  /**
   * A signal cannot cross the thread boundary: the call goes without it, and
   * an abort is posted after it, so the adapter in the thread cancels its job
   * as it would in a worker. The caller sees its own signal's reason.
   */
  private async cancellable(ctx: QueryContext | undefined, call: (plain: QueryContext | undefined) => Promise<unknown>): Promise<unknown> {
    const signal = querySignal(ctx);
    const { signal: _own, ...plain } = ctx ?? {};
    if (!signal) return call(ctx);
    signal.throwIfAborted();
    const pending = call(plain);
    const id = this.lastId;
    const onAbort = () => this.worker.postMessage({ id, cancel: true } satisfies HostCancel);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await pending;
    } catch (err) {
      throw signal.aborted ? signal.reason : err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private failAll(err: unknown): void {
    for (const { reject } of this.pending.values()) reject(err);
    this.pending.clear();
  }
}

function rebuild(error: SerialisedError): Error {
  if (error.nonRetryableType) return new NonRetryableError(error.nonRetryableType, error.message, error.details);
  const err = new Error(error.message);
  err.name = error.name;
  return err;
}
