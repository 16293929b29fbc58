import type { CreativeVariant } from './rules';
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

export interface GenerateInput {
  readonly useCase: string;
  /** The generation job (its workflow id): the per-job budget's key */
  readonly jobId: string;
  /** UTC day of the call, from the workflow clock: the per-day budget's key */
  readonly day: string;
  readonly at: string;
  readonly market: string;
  readonly facts: ProductFacts;
  readonly count: number;
  readonly feedback: string[];
  readonly content: Pick<ContentPlan['content'], 'format' | 'templateVersion' | 'bannedTerms' | 'brandRules' | 'models' | 'budgets'>;
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly cost: number;
}

export type GenerateResult =
  | {
      readonly status: 'ok';
      readonly promptHash: string;
      readonly model: string;
      /** Answered from the cache: nobody paid for this call */
      readonly cached: boolean;
      readonly usage: Usage;
      readonly variants: CreativeVariant[];
      /** Per variant: flagged by the provider's moderation (false where it offers none) */
      readonly flagged: boolean[];
      readonly moderation: 'checked' | 'unavailable';
      readonly piiRemoved: number;
    }
  | {
      readonly status: 'budget-exhausted';
      readonly scope: 'job' | 'day';
      readonly used: number;
      readonly limit: number;
      readonly needed: number;
    };
