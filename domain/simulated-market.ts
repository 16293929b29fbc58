import type { TableRef } from './table-ref';

/**
 * The simulated market of the embedded default, as activities see it: it
 * seeds a dataset and answers experiments and bandit rounds the way real
 * traffic would. The worker of the embedded stack is given one; a worker on
 * a real warehouse is not, and its outcomes arrive in the warehouse by
 * themselves. Production activities depend on this interface only, never on
 * the simulator's code.
 */
export interface SimulatedMarket {
  /** Seeds the simulated dataset when the warehouse has none; a second call changes nothing */
  seedDataset(input: SeedInput): Promise<SeedResult>;
  /** Orders (with their sessions and events) for the users of an experiment's assignment, idempotently */
  answerExperiment(input: ExperimentAnswerInput): Promise<void>;
  /** Clicks of one bandit round for the impressions each arm was given, merged by (experiment, arm, period) */
  serveBanditRound(input: BanditRoundTraffic): Promise<void>;
  /** The planted click rate of every arm: the truth regret is measured against */
  plantedClickRates(experimentId: string, arms: readonly string[], seed: number): Record<string, number>;
}

export interface SeedInput {
  readonly seed: number;
  readonly users: number;
  readonly schema?: string;
}

export interface SimulatedDatasetSummary {
  readonly schema: string;
  readonly seed: number;
  readonly users: number;
  readonly startDate: string;
  /** First day after the period (exclusive) */
  readonly endDate: string;
  readonly days: number;
  readonly markets: readonly string[];
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly driftedFeatures: readonly string[];
}

export interface SeedResult {
  readonly seeded: boolean;
  readonly summary?: SimulatedDatasetSummary;
}

export interface ExperimentAnswerInput {
  readonly assignmentTable: TableRef;
  readonly experimentId: string;
  readonly startDate: string;
  readonly days: number;
  /** Schema of the source tables the orders are written to */
  readonly schema: string;
}

export interface BanditRoundTraffic {
  readonly experimentId: string;
  readonly round: number;
  readonly arms: readonly string[];
  /** Impressions each arm was given this round */
  readonly impressions: Readonly<Record<string, number>>;
  readonly outcomesTable: TableRef;
  readonly seed: number;
}
