import type { TableRef } from '../table-ref';
import type { RolloutPlan } from '../plan';
import type { LogisticModel } from '../stats/logistic';
import type { LoopWindow } from './windows';

export interface DriftFeatureRow {
  readonly feature: string;
  readonly kind: string;
  readonly psi: number | null;
  readonly ks: number | null;
  readonly jsDistance: number | null;
  readonly drifted: boolean;
  readonly reason: string;
}

export interface UseCaseDrift {
  readonly datasetDrift: boolean;
  readonly predictionDrift: boolean;
  readonly driftedShare: number;
  readonly driftedFeatures: string[];
  readonly features: DriftFeatureRow[];
  readonly referenceRows: number;
  readonly currentRows: number;
  /** The check's report page on aimo's HTTP server (checks from this release on) */
  readonly reportUrl?: string;
}

export interface DriftResult extends UseCaseDrift {
  readonly useCase: string;
  readonly champion: string;
  /** [from, to): `to` is asOf; checks since windows come from the data also say where the end came from */
  readonly window: Pick<LoopWindow, 'from' | 'to'> & Partial<LoopWindow>;
  readonly retrain?: { workflowId: string; started: boolean };
}

/** `deferred`: another retrain of the use case (a drift incident's) was still open, so this one trained nothing. */
export type RetrainOutcome = 'promoted' | 'kept-champion' | 'rolled-back' | 'data-quality-failed' | 'rejected' | 'deferred';

/** A canary check that could judge: both outcomes among the canary's users in the live window. */
export interface CanaryCheck {
  readonly healthy: boolean;
  readonly challengerAuc: number;
  readonly championAuc: number;
  readonly users: number;
  readonly converters?: number;
}

/**
 * A health check's answer. `conclusive: false` when the live window has no
 * canary users or only one outcome among them (no live outcomes yet): no AUC
 * is computed and the check neither passes nor fails the canary. Answers
 * recorded before this field existed were all conclusive.
 */
export type CanaryHealth = (CanaryCheck & { readonly conclusive?: true }) | { readonly conclusive: false; readonly users: number; readonly converters: number; readonly reason: string };

export interface RetrainResult {
  readonly useCase: string;
  readonly outcome: RetrainOutcome;
  readonly champion: string;
  readonly challenger?: string;
  readonly comparison?: { championAuc: number; challengerAuc: number; holdoutRows: number };
  /** Every conclusive check of the watch, those of earlier runs of a watch that continued as new included */
  readonly canaryChecks: CanaryCheck[];
  /** Checks that found no live outcomes to judge by */
  readonly checksWithoutOutcomes?: number;
  /** The training window; absent from retrains that stopped before it was fixed, or ran before it was recorded */
  readonly window?: LoopWindow;
  readonly reason: string;
}

export interface RollbackResult {
  readonly useCase: string;
  readonly from?: string;
  readonly to: string;
  readonly changed: boolean;
}

export interface ChampionInfo {
  readonly versionId: string;
  readonly plan: RolloutPlan;
  readonly featuresTable: TableRef;
  readonly scoresTable: TableRef;
  readonly model: LogisticModel;
  readonly auc: number;
}
