import type { ContentReadout } from '../content/results';
import type { AutomationResult, ExperimentReadout, GuardrailReport, InventoryReport, KpiBaseline, ModelRun, ModelVersion } from '../propensity/results';
import type { RolloutPlanBase } from './plan';
import type { RolloutState, StepOutcome } from './status';

/** Everything a rollout decided and measured; returned by the workflow and written to the data folder. */
export interface RolloutResult {
  useCase: string;
  workflowId: string;
  /** The plan as its use case validated it, defaults filled in */
  plan: RolloutPlanBase;
  status: RolloutState;
  steps: StepOutcome[];
  failure?: string;
  kpi?: KpiBaseline;
  inventory?: InventoryReport;
  dataPath?: { models: ModelRun[]; failedExpectations: string[] };
  model?: ModelVersion;
  guardrails?: GuardrailReport;
  experiment?: ExperimentReadout;
  automation?: AutomationResult;
  /** The content use case's generation, review and bandit readouts */
  content?: ContentReadout;
  scale?: Array<{ channel: string; market: string; workflowId: string; status: string; summary: string }>;
  reportPath?: string;
}
