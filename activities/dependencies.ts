import type { Client } from '@temporalio/client';
import type { SimulatedMarket } from '../domain/simulated-market';
import type { Warehouse } from '../warehouse/warehouse';

/** What activities need from the outside world; the worker passes real clients, tests pass their own. */
export interface ActivityDependencies {
  readonly warehouse: Warehouse;
  /** Secret used to hash PII; never logged */
  readonly hashSalt: string;
  /** Where reports and result files are cached (the warehouse's aimo.reports is where they are kept) */
  readonly dataDir: string;
  /** Base URL of aimo's HTTP server, e.g. http://127.0.0.1:8787: report links in results point there */
  readonly reportBaseUrl?: string;
  /** For activities that manage schedules or start workflows */
  readonly temporalClient?: Client;
  /** An OpenAI-compatible endpoint for the content use case; without it content generation fails with LlmNotConfigured */
  readonly llm?: LlmEndpoint;
  /** The embedded default's simulated market: answers experiments and bandit rounds whose plan asks for simulated outcomes */
  readonly simulator?: SimulatedMarket;
}

export interface LlmEndpoint {
  /** e.g. https://api.openai.com/v1, or the local stand-in's …/v1 */
  readonly baseURL: string;
  /** Secret; never logged */
  readonly apiKey: string;
  readonly timeoutMs?: number;
}
