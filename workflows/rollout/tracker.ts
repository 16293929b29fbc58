import { log, upsertSearchAttributes } from '@temporalio/workflow';
import { STATUS, STEP, USE_CASE } from '../../domain/rollout/definitions';
import type { RolloutState, RolloutStatus, RolloutStep, StepOutcome } from '../../domain/rollout/status';

/**
 * Where a rollout stands: its state, current step and finished steps (the
 * `status` query), the search attributes the UI filters on, and the audit
 * sequence that keys the run's audit rows.
 */
export class RolloutTracker {
  private state: RolloutState = 'running';
  private current: RolloutStep | 'done' = 'kpi';
  private waitingFor: string | undefined;
  private readonly steps: StepOutcome[] = [];
  private auditSeq = 0;

  constructor(private readonly useCase: string) {
    this.publish();
  }

  begin(step: RolloutStep): void {
    this.current = step;
    this.publish();
  }

  done(step: RolloutStep, status: StepOutcome['status'], summary: string, numbers: StepOutcome['numbers']): void {
    this.steps.push({ step, status, summary, numbers, finishedAt: new Date().toISOString() });
    log.info(`step ${step} ${status}: ${summary}`, { step });
  }

  setState(state: RolloutState, waitingFor?: string): void {
    this.state = state;
    this.waitingFor = waitingFor;
    if (state === 'completed') this.current = 'done';
    this.publish();
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

  private publish(): void {
    upsertSearchAttributes([
      { key: USE_CASE, value: this.useCase },
      { key: STEP, value: this.current },
      { key: STATUS, value: this.state },
    ]);
  }
}
