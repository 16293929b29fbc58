import { parentPort, workerData } from 'node:worker_threads';
import { NonRetryableError } from '../../../domain/errors';
import { BigQueryWarehouse, type BigQueryWarehouseOptions } from '../../../warehouse/bigquery';

/**
 * Runs inside a worker thread, in plain Node (see worker-warehouse.ts):
 * hosts one BigQueryWarehouse and answers calls posted by the test thread.
 */
export interface HostCall {
  readonly id: number;
  readonly method: string;
  readonly args: unknown[];
}

export type HostReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: SerialisedError };

export interface SerialisedError {
  readonly name: string;
  readonly message: string;
  readonly nonRetryableType?: string;
  readonly details?: unknown;
}

function serialise(err: unknown): SerialisedError {
  if (err instanceof NonRetryableError) return { name: err.name, message: err.message, nonRetryableType: err.type, details: err.details };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

const { options } = workerData as { options: BigQueryWarehouseOptions };
const warehouse = new BigQueryWarehouse(options);
const port = parentPort!;

port.on('message', (call: HostCall) => {
  const method = (warehouse as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[call.method];
  if (typeof method !== 'function') {
    port.postMessage({ id: call.id, ok: false, error: { name: 'Error', message: `no method ${call.method}` } } satisfies HostReply);
    return;
  }
  method.apply(warehouse, call.args).then(
    (value) => port.postMessage({ id: call.id, ok: true, value } satisfies HostReply),
    (err: unknown) => port.postMessage({ id: call.id, ok: false, error: serialise(err) } satisfies HostReply),
  );
});
