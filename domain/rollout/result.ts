import type { ContentReadout } from '../content/results';
import type { AutomationResult, ExperimentReadout, GuardrailReport, InventoryReport, KpiBaseline, ModelRun, ModelVersion } from '../propensity/results';
import type { RolloutPlanBase } from './plan';
import type { RolloutState, StepOutcome } from './status';

/** Everything a rollout decided and measured; returned by the workflow and written to the data folder. */
export interface RolloutResult {
  /** The answer first: goal met or not, the decision, the key numbers, the report; set when the run ends */
  readout?: RolloutReadout | undefined;
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
  /** The report's HTML page on aimo's HTTP server (runs from this release on, when the server's URL is known) */
  reportUrl?: string;
}

/** Whether the plan's goal was reached, measured on the experiment's own arms. */
export interface GoalOutcome {
  readonly metric: string;
  readonly targetChange: number;
  readonly verdict: 'met' | 'not met' | 'not measured';
  /** treatment vs control, relative; null when the experiment did not measure the KPI */
  readonly observedChange: number | null;
  readonly detail: string;
}

/** What a person reads first in a rollout's result: the answer, then the numbers behind it. */
export interface RolloutReadout {
  readonly headline: string;
  readonly goal: GoalOutcome;
  readonly decision: string;
  readonly numbers: Record<string, number | string | boolean | null>;
  readonly report?: string;
  /** The report's page on aimo's HTTP server */
  readonly reportUrl?: string;
}
