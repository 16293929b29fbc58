import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../activities';
import type { ContentPlanInput } from '../../domain/plan';
import { startLocalLlmServer, type LocalLlmServer } from '../../workers/local-llm-server';
import { generateContentDataset } from '../../simulator/products';
import { DuckDbWarehouse } from '../../warehouse/duckdb';
import { createLlmWorker } from '../../workers/create-worker';
import { createTestWorker, uniqueTaskQueue } from './temporal';

export { startLocalLlmServer, type LocalLlmServer };

/** An in-memory warehouse with just the content use case's sources (products, incumbent history). */
export async function contentWarehouse(seed = 7): Promise<DuckDbWarehouse> {
  const warehouse = await DuckDbWarehouse.open(':memory:');
  await generateContentDataset(warehouse, { seed });
  return warehouse;
}

/** A small content plan: two products, a bandit that settles in a few dozen simulated rounds. */
export function contentPlan(overrides: Omit<Partial<ContentPlanInput>, 'content'> & { content?: Partial<ContentPlanInput['content']> } = {}): ContentPlanInput {
  const { content, ...rest } = overrides;
  return {
    useCase: 'content-test',
    kind: 'content',
    kpi: { metric: 'ctr', channel: 'paid_search', market: 'DE', targetChange: 0.1, deadline: '2026-06-30' },
    approval: { beforeExperiment: false, timeout: '1 day', onTimeout: 'reject' },
    ...rest,
    content: {
      products: ['trail-runner', 'rain-jacket'],
      variantsPerProduct: 3,
      maxRegenerations: 2,
      budgets: { tokensPerJob: 20_000, tokensPerDay: 200_000 },
      models: { primary: { name: 'primary-model', inputPerMillion: 0.15, outputPerMillion: 0.6 }, fallback: { name: 'fallback-model', inputPerMillion: 0.1, outputPerMillion: 0.4 }, maxOutputTokens: 400 },
      bannedTerms: ['cheapest', 'miracle'],
      bandit: { outcomeSource: 'simulator', cadence: '1 day', burnInImpressions: 500, minShare: 0.05, winnerProbability: 0.95, maxRounds: 60, impressionsPerRound: 1500 },
      ...content,
    },
  };
}

/**
 * The main worker (workflows + warehouse activities) and the rate-limited
 * LLM worker on "<queue>-llm", both built by the product's factories,
 * running until `fn` settles.
 */
export async function runContentWorkers<T>(env: TestWorkflowEnvironment, activities: Activities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = uniqueTaskQueue('content');
  const main = await createTestWorker(env, activities, taskQueue);
  const llm = await createLlmWorker({ connection: env.nativeConnection, namespace: env.namespace ?? 'default', taskQueue: `${taskQueue}-llm`, activities, requestsPerSecond: 50 });
  return llm.runUntil(main.runUntil(fn(taskQueue)));
}
