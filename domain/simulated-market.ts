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
  seedDataset(input: SeedInput, onProgress?: ProgressListener): Promise<SeedResult>;
  /**
   * Simulates every day after the newest one up to `through` for the existing
   * population (sessions, events, orders, spend), with the options the
   * dataset was generated with. A day simulated twice is stored once.
   */
  appendMarketDays(input: MarketDaysInput, onProgress?: ProgressListener): Promise<MarketDaysResult>;
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
  /** Last simulated day (ISO date); the embedded stack passes yesterday. Default: the simulator's fixed calendar */
  readonly endDate?: string;
  /** Days up to endDate; default: from the simulator's first day, 2026-01-01 */
  readonly days?: number;
  /** Shifts named feature distributions from a day on (which may come after endDate: appended days carry it) */
  readonly drift?: { readonly fromDate: string; readonly features: readonly string[]; readonly strength?: number };
  /** Changes what makes users buy from a day on (which may come after endDate) */
  readonly conceptDrift?: { readonly fromDate: string; readonly strength?: number };
}

/** How far a simulation has come: reported after each stage, so a long seed can heartbeat and log */
export interface SimulationProgress {
  /** population: users, identities, consent and their truth are written; days: a piece of days is stored */
  readonly stage: 'population' | 'days';
  readonly daysDone: number;
  readonly days: number;
  /** Rows of sessions, events, orders and spend stored so far by this call */
  readonly rows: number;
  /** The newest simulated day so far */
  readonly newestDay?: string;
}

export type ProgressListener = (progress: SimulationProgress) => void;

export interface MarketDaysInput {
  /** Schema of the simulated dataset; default raw */
  readonly schema?: string;
  /** Last day to simulate (ISO date) */
  readonly through: string;
}

export interface MarketDaysResult {
  readonly schema: string;
  /** Days simulated by this call (0 when the dataset already reached `through`) */
  readonly days: number;
  /** Rows of sessions, events, orders and spend written */
  readonly rows: number;
  /** First and last day simulated, when any */
  readonly from?: string;
  readonly through?: string;
  /** The newest simulated day after the call */
  readonly newestDay: string;
}

/** Input of the marketDay workflow: which simulated dataset grows by the days up to yesterday */
export interface MarketDayInput {
  readonly schema?: string;
}

export interface SimulatedDatasetSummary {
  readonly schema: string;
  readonly seed: number;
  readonly users: number;
  readonly startDate: string;
  /** Last simulated day (inclusive) */
  readonly endDate: string;
  readonly days: number;
  readonly markets: readonly string[];
  readonly rowCounts: Readonly<Record<string, number>>;
  readonly driftedFeatures: readonly string[];
}

export interface SeedResult {
  readonly seeded: boolean;
  readonly summary?: SimulatedDatasetSummary;
  /**
   * The newest simulated day; missing when the warehouse holds a dataset
   * from before the simulator recorded its options, which cannot grow
   */
  readonly newestDay?: string;
}

export interface ExperimentAnswerInput {
  readonly assignmentTable: TableRef;
  readonly experimentId: string;
  readonly startDate: string;
  readonly days: number;
  /** Schema of the source tables the orders are written to */
  readonly schema: string;
  /** Geo tests: region-level noise, one log-normal factor of this sd per region of the table (user_id, region) */
  readonly regionNoise?: { readonly table: TableRef; readonly sd: number };
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
