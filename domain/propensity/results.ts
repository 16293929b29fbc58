import type { TableRef } from '../table-ref';
import type { ExperimentAnalysis, ExperimentReadoutDetails } from '../experiment';
import type { RolloutPlan } from '../plan';
import type { ExpectationResult } from '../quality';
import type { LogisticModel } from '../stats/logistic';
import type { PropensityModelName } from './features';
import type { SourceName } from './sources';

export interface KpiBaseline {
  readonly metric: RolloutPlan['kpi']['metric'];
  readonly baseline: number | null;
  readonly target: number | null;
  readonly window: { readonly from: string; readonly to: string };
  /** The aggregates the baseline was computed from */
  readonly components: Record<string, number>;
  /** Source tables that were missing, so no baseline could be measured */
  readonly missingSources?: string[];
}

export interface SourceReport {
  readonly source: SourceName;
  readonly table: TableRef;
  readonly exists: boolean;
  readonly rows: number;
  readonly newest: string | null;
  readonly stalenessHours: number | null;
  readonly nullRates: Record<string, number>;
  readonly duplicateRate: number | null;
  readonly schemaProblems: string[];
  readonly blocking: string[];
  readonly warnings: string[];
}

export interface InventoryReport {
  readonly sources: SourceReport[];
  readonly consentCoverage: number | null;
  readonly identityMatchRate: number | null;
  readonly blocking: string[];
  readonly warnings: string[];
  readonly rowsScanned: number;
}

export interface ModelRun {
  readonly model: PropensityModelName;
  readonly table: TableRef;
  readonly rows: number;
  readonly seconds: number;
  readonly expectations: ExpectationResult[];
}

export interface ModelMetrics {
  readonly auc: number;
  readonly logLoss: number;
  readonly brier: number;
  readonly prevalence: number;
  readonly holdoutRows: number;
  readonly calibration: Array<{ bin: number; meanPredicted: number; observedRate: number; count: number }>;
}

export interface ModelVersion {
  readonly versionId: string;
  readonly useCase: string;
  readonly features: string[];
  readonly model: LogisticModel;
  readonly metrics: ModelMetrics;
  readonly fairness: { segment: string; maxAucGap: number; groups: Array<{ value: string; auc: number | null; rows: number }> };
  readonly featuresTable: TableRef;
  readonly scoresTable: TableRef;
}

export interface GuardrailCheck {
  readonly name: string;
  readonly passed: boolean;
  readonly value: number | null;
  readonly limit: number | null;
  readonly detail: string;
}

export interface GuardrailReport {
  readonly passed: boolean;
  readonly checks: GuardrailCheck[];
}

export interface ExperimentAssignment {
  readonly experimentId: string;
  readonly assignmentTable: TableRef;
  readonly activationTable: TableRef;
  readonly startDate: string;
  readonly endDate: string;
  readonly control: number;
  readonly treatment: number;
  /** Geo tests: the regions' arms and pairs; users are assigned by the region they live in */
  readonly geo?: { readonly regionAssignmentTable: TableRef; readonly regions: number; readonly pairs: number };
}

export interface ExperimentReadout extends ExperimentAnalysis, ExperimentReadoutDetails {
  readonly experimentId: string;
  readonly window: { from: string; to: string };
  readonly ship: boolean;
  readonly summary: string;
}

export interface AutomationResult {
  readonly champion: string;
  readonly servingView: TableRef;
  readonly schedules: Array<{ scheduleId: string; cron: string; outcome: string }>;
  readonly alertRoutes: number;
}
