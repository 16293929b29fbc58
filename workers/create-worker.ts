import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { Activities } from '../activities';

export interface AimoWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: Activities;
  /** A prebuilt bundle (tests build one per run); otherwise the worker bundles workflows/ itself */
  readonly workflowBundle?: WorkflowBundleOption;
  readonly identity?: string;
}

/** The one way aimo builds a worker: the product, the demo and the tests all come through here. */
export function createAimoWorker(options: AimoWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    ...(options.identity ? { identity: options.identity } : {}),
    // Warehouse work is I/O bound but DuckDB shares two cores with everything else.
    maxConcurrentActivityTaskExecutions: 8,
    shutdownGraceTime: '20s',
  });
}
