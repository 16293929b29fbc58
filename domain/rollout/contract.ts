import type { RolloutPlanBase, PlanCheckOf } from './plan';
import type { ApprovalDecision } from './approval';
import type { RolloutContext } from './context';
import type { RolloutResult } from './result';
import type { RolloutState, RolloutStep, StepOutcome } from './status';



/** How a rollout ends before or after its last step, and why. */
export interface RolloutEnd {
  readonly state: Exclude<RolloutState, 'running' | 'waiting-approval'>;
  readonly failure?: string;
  /** After the report is written the workflow fails non-retryably with this (e.g. blocking data gaps) */
  readonly error?: { readonly type: string; readonly message: string; readonly details?: unknown };
}

/** What one step reports to the tracker and the report; `end` stops the rollout after it. */
export interface StepReport {
  readonly status: StepOutcome['status'];
  readonly summary: string;
  readonly numbers: StepOutcome['numbers'];
  readonly end?: RolloutEnd;
}

/** What the driver hands a step: the plan, the names derived from the run, the result so far, audit and approval. */
export interface StepRun<P> {
  readonly plan: P;
  readonly ctx: RolloutContext;
  /** Steps record their readouts here; the report and the workflow's result are built from it */
  readonly result: RolloutResult;
  audit(step: RolloutStep | 'rollout', decision: string, reason: string, actor?: string, details?: Record<string, unknown>): Promise<void>;
  /** Waits for a person at the named gate, with the plan's timeout policy */
  approval(gate: string): Promise<ApprovalDecision>;
}

export type StepImplementation<P, S> = (run: StepRun<P>, state: S) => Promise<StepReport>;

/** A step that has nothing to do for a use case says so, and why; the report shows it as skipped with the reason. */
export interface NotApplicable {
  readonly notApplicable: string;
}

export function notApplicable(reason: string): NotApplicable {
  return { notApplicable: reason };
}

export function isNotApplicable<P, S>(step: StepImplementation<P, S> | NotApplicable): step is NotApplicable {
  return typeof step !== 'function';
}

/**
 * The eight-step contract. A use case (propensity, content, …) says what each
 * step of the rollout does for it, or why the step does not apply; the
 * rollout workflow validates the plan with the use case's own check and runs
 * the steps in order. `S` is the working state the steps of one run share.
 */
export interface EightStepUseCase<P extends RolloutPlanBase, S> {
  readonly kind: string;
  checkPlan(input: unknown): PlanCheckOf<P>;
  initialState(plan: P): S;
  readonly steps: { readonly [K in RolloutStep]: StepImplementation<P, S> | NotApplicable };
}

/** A use case as the driver holds it: its plan and state types are its own business. */
export type RegisteredUseCase = EightStepUseCase<RolloutPlanBase, unknown>;

export function registerUseCase<P extends RolloutPlanBase, S>(useCase: EightStepUseCase<P, S>): RegisteredUseCase {
  // The plan passed back to the steps is the one the use case's own checkPlan produced, so its type holds.
  return useCase as unknown as RegisteredUseCase;
}

/** The plan's kind: a plan without one (or a JSON text of one) is a propensity plan, as before there were kinds. */
export function planKind(input: unknown): string {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return 'propensity';
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value) && 'kind' in value && typeof value.kind === 'string') return value.kind;
  return 'propensity';
}
