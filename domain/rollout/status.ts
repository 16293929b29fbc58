export const ROLLOUT_STEPS = [
  'kpi',
  'inventory',
  'data-path',
  'baseline-model',
  'guardrails',
  'experiment',
  'automation',
  'scale',
] as const;

export type RolloutStep = (typeof ROLLOUT_STEPS)[number];
/** `cancelled`: a person or a parent cancelled the run; its report still says how far it got. */
export type RolloutState = 'running' | 'waiting-approval' | 'completed' | 'failed' | 'rejected' | 'cancelled';

export interface StepOutcome {
  readonly step: RolloutStep;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly summary: string;
  /** Key numbers of the step (baseline, AUC, effect, ...) */
  readonly numbers: Record<string, number | string | boolean | null>;
  readonly finishedAt: string;
}

export interface RolloutStatus {
  readonly useCase: string;
  readonly state: RolloutState;
  readonly currentStep: RolloutStep | 'done';
  readonly waitingFor?: string;
  readonly steps: StepOutcome[];
}
