import type { DataConverter } from '@temporalio/common';
import { Worker, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import type { Activities } from '../activities';
import { activityKeepAlive } from './activity-keep-alive';
import { activityQueryCancellation } from './activity-query-cancellation';

/** The activity set is aimo's own unless a caller (the throughput bench) runs others on the very same worker options. */
export interface AimoWorkerOptions<A extends object = Activities> {
  readonly connection: NativeConnection;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly activities: A;
  /** A prebuilt bundle (tests build one per run); otherwise the worker bundles workflows/ itself */
  readonly workflowBundle?: WorkflowBundleOption;
  readonly identity?: string;
  /** Payload encryption (platform/temporal-connection.ts payloadDataConverter); a prebuilt bundle must be built with its failureConverterPath */
  readonly dataConverter?: DataConverter;
}

/** The one way aimo builds a worker: the product, the demo and the tests all come through here. */
export function createAimoWorker<A extends object = Activities>(options: AimoWorkerOptions<A>): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    // No activity slot cap: a cap adds schedule-to-start to every activity once the slots are busy
    // (short activities wait behind long warehouse queries). The warehouse adapters bound their own
    // concurrency instead (DuckDbWarehouse's maxConcurrentQueries), where the contention is.
    shutdownGraceTime: '20s',
    interceptors: { activity: [activityKeepAlive, activityQueryCancellation] },
  });
}

export interface AimoLlmWorkerOptions {
  readonly connection: NativeConnection;
  readonly namespace: string;
  /** The dedicated LLM task queue (AIMO_LLM_TASK_QUEUE; content plans default to "<main queue>-llm") */
  readonly taskQueue: string;
  readonly activities: Pick<Activities, 'generateCreatives'>;
  /** The provider's request rate: calls per second across every worker of this queue */
  readonly requestsPerSecond: number;
  readonly identity?: string;
  readonly dataConverter?: DataConverter;
}

/**
 * The content use case's LLM calls run on their own task queue and worker, so
 * the provider's rate limit is enforced by Temporal's task-queue rate limiter
 * (all workers together) and never starves warehouse work. No workflows here.
 */
export function createLlmWorker(options: AimoLlmWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: { generateCreatives: options.activities.generateCreatives },
    maxTaskQueueActivitiesPerSecond: options.requestsPerSecond,
    maxActivitiesPerSecond: options.requestsPerSecond,
    maxConcurrentActivityTaskExecutions: Math.max(1, Math.ceil(options.requestsPerSecond)),
    ...(options.identity ? { identity: options.identity } : {}),
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    shutdownGraceTime: '20s',
  });
}
