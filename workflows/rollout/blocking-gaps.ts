import { ApplicationFailure } from '@temporalio/workflow';
import type { RolloutResult } from '../../domain/rollout/result';
import type { RolloutState, RolloutStep, StepOutcome } from '../../domain/rollout/status';

/** What a rollout's steps report through, whichever kind of use case runs them. */
export interface StepReporting {
  readonly tracker: { done(step: RolloutStep, status: StepOutcome['status'], summary: string, numbers: StepOutcome['numbers']): void };
  audit(step: RolloutStep | 'rollout', decision: string, reason: string): Promise<void>;
  finish(state: RolloutState, failure?: string): Promise<RolloutResult>;
}

/**
 * Ends a rollout whose inventory found blocking gaps: the step, the audit log
 * and the report say which, and the workflow fails non-retryably, because
 * running it again cannot help until the sources are fixed.
 */
export async function stopOnBlockingGaps(reporting: StepReporting, inventory: { blocking: string[]; warnings: string[] }): Promise<never> {
  const list = inventory.blocking.map((gap) => `  - ${gap}`).join('\n');
  reporting.tracker.done('inventory', 'failed', `${inventory.blocking.length} blocking gap(s)`, { blocking: inventory.blocking.length, warnings: inventory.warnings.length });
  await reporting.audit('inventory', 'blocked', inventory.blocking.join('; '));
  await reporting.finish('failed', `Blocking data gaps:\n${list}`);
  throw ApplicationFailure.create({
    type: 'BlockingDataGap',
    nonRetryable: true,
    message: `Data inventory found blocking gaps; fix the sources and start again:\n${list}`,
    details: [inventory],
  });
}
