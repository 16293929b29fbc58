import { log, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { STATUS, STEP, USE_CASE } from '../../domain/rollout/definitions';
import { renderRolloutDetails } from '../../domain/rollout/details';
import type { RolloutReadout } from '../../domain/rollout/readout';
import type { RolloutResult } from '../../domain/rollout/result';
import type { RolloutState, RolloutStatus, RolloutStep, StepOutcome } from '../../domain/rollout/status';
import { enterStep } from '../step-context';

/**
 * Where a rollout stands: its state, current step and finished steps (the
 * `status` query), the search attributes the UI filters on, the Markdown the
 * UI shows as the workflow's current details, and the audit sequence that
 * keys the run's audit rows.
 */
export class RolloutTracker {
  private state: RolloutState = 'running';
  private current: RolloutStep | 'done' = 'kpi';
  private waitingFor: string | undefined;
  private gate: string | undefined;
  private readonly steps: StepOutcome[] = [];
  private auditSeq = 0;
  private ending: { readout: RolloutReadout; report?: { path: string; url?: string }; children?: RolloutResult['scale'] } | undefined;

  /** `goal` is the one-line goal the details start with, e.g. "cac -15 % in paid_search/DE" */
  constructor(
    private readonly useCase: string,
    private readonly goal = '',
  ) {
    enterStep(useCase, 'start');
    this.publish();
  }

  begin(step: RolloutStep): void {
    this.current = step;
    enterStep(this.useCase, step);
    this.publish();
  }

  done(step: RolloutStep, status: StepOutcome['status'], summary: string, numbers: StepOutcome['numbers']): void {
    this.steps.push({ step, status, summary, numbers, finishedAt: new Date().toISOString() });
    log.info(`step ${step} ${status}: ${summary}`, { step });
    // Details only: a new search-attribute upsert here would be a new command in every history.
    this.describe();
  }

  /** The gate the next wait is for, so the details can show how to decide it. */
  waitAt(gate: string): void {
    this.gate = gate;
    enterStep(this.useCase, `${gate} gate`);
  }

  setState(state: RolloutState, waitingFor?: string): void {
    this.state = state;
    this.waitingFor = waitingFor;
    if (!waitingFor) this.gate = undefined;
    if (state === 'completed') this.current = 'done';
    // What a finished run still schedules is its audit row and report.
    if (state === 'completed' || state === 'failed' || state === 'rejected') enterStep(this.useCase, 'report');
    this.publish();
  }

  /** The finished rollout's readout, report and children, shown at the top of the details. */
  ended(readout: RolloutReadout, report?: { path: string; url?: string }, children?: RolloutResult['scale']): void {
    this.ending = { readout, ...(report ? { report } : {}), ...(children ? { children } : {}) };
    this.describe();
  }

  nextAuditSeq(): number {
    return ++this.auditSeq;
  }

  status(): RolloutStatus {
    return {
      useCase: this.useCase,
      state: this.state,
      currentStep: this.current,
      ...(this.waitingFor ? { waitingFor: this.waitingFor } : {}),
      steps: [...this.steps],
    };
  }

  details(): string {
    const info = workflowInfo();
    return renderRolloutDetails({
      workflowId: info.workflowId,
      namespace: info.namespace,
      useCase: this.useCase,
      goal: this.goal,
      state: this.state,
      currentStep: this.current,
      ...(this.gate && this.waitingFor ? { gate: this.gate } : {}),
      steps: this.steps,
      ...(info.parent ? { parentId: info.parent.workflowId } : {}),
      ...(this.ending?.children ? { children: this.ending.children } : {}),
      ...(this.ending ? { readout: this.ending.readout } : {}),
      ...(this.ending?.report ? { reportPath: this.ending.report.path } : {}),
      ...(this.ending?.report?.url ? { reportUrl: this.ending.report.url } : {}),
    });
  }

  private describe(): void {
    setCurrentDetails(this.details());
  }

  private publish(): void {
    upsertSearchAttributes([
      { key: USE_CASE, value: this.useCase },
      { key: STEP, value: this.current },
      { key: STATUS, value: this.state },
    ]);
    this.describe();
  }
}
