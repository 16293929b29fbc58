import type { TableRef } from '../table-ref';
import type { ArmStats, Regret } from './bandit';
import type { ProductFacts, Violation } from './rules';
import type { ContentPlan } from '../plan';

export interface ContentBaseline {
  readonly metric: ContentPlan['kpi']['metric'];
  readonly baseline: number | null;
  readonly target: number | null;
  readonly window: { from: string; to: string } | null;
  readonly impressions: number;
  readonly clicks: number;
}

export interface ProductFactsReport {
  readonly facts: ProductFacts[];
  readonly blocking: string[];
  readonly warnings: string[];
}

export interface VariantRecord {
  readonly variantId: string;
  readonly productId: string;
  readonly headline: string;
  readonly description: string;
  readonly status: 'accepted' | 'rejected' | 'review' | 'approved-by-reviewer' | 'rejected-by-reviewer';
  readonly attempt: number;
  readonly violations: Violation[];
  readonly model: string;
  readonly promptHash: string;
}

/** The creative a product goes live with, and why it was chosen. */
export interface CreativeChoice {
  readonly variantId: string;
  readonly decidedBy: 'posterior' | 'max-rounds';
  readonly pBest: number;
}

/** Round r's allocation as the ad server is told it, published before the round's traffic. */
export interface BanditAllocationInput {
  readonly useCase: string;
  readonly experimentId: string;
  readonly round: number;
  /** Impressions each arm is given this round (what the ad server is told) */
  readonly impressions: Record<string, number>;
  readonly shares: Record<string, number>;
  /** Where the ad server reports the round's outcomes */
  readonly sourceSchema: string;
  readonly outcomesTable: string;
}

/** Round r's allocation with what reading its outcomes after the cadence needs. */
export interface BanditRoundInput extends BanditAllocationInput {
  readonly arms: string[];
  /** Let the simulator produce this round's outcomes from planted click rates */
  readonly simulate: boolean;
  readonly seed: number;
}

export interface BanditRegret extends Regret {
  readonly bestArm: string;
  readonly trueRates: Record<string, number>;
  readonly impressions: Record<string, number>;
}

export interface GenerationSummary {
  readonly jobId: string;
  readonly calls: number;
  readonly cachedCalls: number;
  readonly fallbackCalls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cost: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly review: number;
  readonly piiRemoved: number;
  readonly moderation: 'checked' | 'unavailable' | 'not-run';
  readonly budgetExhausted?: { scope: 'job' | 'day'; used: number; limit: number; needed: number; productsSkipped: string[] };
}

export interface BanditReadout {
  readonly experimentId: string;
  readonly productId: string;
  readonly winner: string | null;
  readonly decidedBy: 'posterior' | 'max-rounds';
  readonly rounds: number;
  readonly pBest: Record<string, number>;
  readonly shares: Record<string, number>;
  readonly arms: ArmStats[];
  readonly regret?: BanditRegret;
}

export interface ContentReadout {
  baseline: ContentBaseline;
  generation?: GenerationSummary;
  variants: VariantRecord[];
  review?: { decision: string; by: string; reason: string; variants: number };
  costPerAcceptedAsset: number | null;
  experiments: BanditReadout[];
  /** The table of live creatives, once the automation step published them */
  published?: TableRef;
}
