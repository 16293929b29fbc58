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

/** Cancels the call of this id: its statement gets an aborted signal, as in a cancelled activity. */
export interface HostCancel {
  readonly id: number;
  readonly cancel: true;
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

const running = new Map<number, AbortController>();

port.on('message', (message: HostCall | HostCancel) => {
  if ('cancel' in message) {
    running.get(message.id)?.abort(new Error('cancelled by the caller'));
    return;
  }
  const call = message;
  const method = (warehouse as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[call.method];
  if (typeof method !== 'function') {
    port.postMessage({ id: call.id, ok: false, error: { name: 'Error', message: `no method ${call.method}` } } satisfies HostReply);
    return;
  }
  // Calls that take a query context get a signal of their own, aborted by a HostCancel.
  const controller = new AbortController();
  running.set(call.id, controller);
  const args = withSignal(call.method, call.args, controller.signal);
  method.apply(warehouse, args).then(
    (value) => port.postMessage({ id: call.id, ok: true, value } satisfies HostReply),
    (err: unknown) => port.postMessage({ id: call.id, ok: false, error: serialise(err) } satisfies HostReply),
  ).finally(() => running.delete(call.id));
});

/** Where each method takes its query context. */
const CONTEXT_ARG: Record<string, number> = { query: 2, execute: 2, estimateBytes: 2, createOrReplaceTableAs: 3, merge: 5 };

function withSignal(method: string, args: unknown[], signal: AbortSignal): unknown[] {
  const at = CONTEXT_ARG[method];
  if (at === undefined) return args;
  const out = [...args];
  while (out.length < at) out.push(undefined);
  out[at] = { ...(out[at] as object | undefined), signal };
  return out;
}
