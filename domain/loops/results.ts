import type { TableRef } from '../table-ref';
import type { RolloutPlan } from '../plan';
import type { LogisticModel } from '../stats/logistic';

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
}

export interface DriftResult extends UseCaseDrift {
  readonly useCase: string;
  readonly champion: string;
  readonly window: { from: string; to: string };
  readonly retrain?: { workflowId: string; started: boolean };
}

export type RetrainOutcome = 'promoted' | 'kept-champion' | 'rolled-back' | 'data-quality-failed' | 'rejected';

export interface RetrainResult {
  readonly useCase: string;
  readonly outcome: RetrainOutcome;
  readonly champion: string;
  readonly challenger?: string;
  readonly comparison?: { championAuc: number; challengerAuc: number; holdoutRows: number };
  readonly canaryChecks: Array<{ healthy: boolean; challengerAuc: number; championAuc: number; users: number }>;
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
