import { ApplicationFailure, CancellationScope, isCancellation, log, patched } from '@temporalio/workflow';
import { withoutUnknownFields } from '../../domain/plan';
import { isNotApplicable, planKind, type RegisteredUseCase, type RolloutEnd } from '../../domain/rollout/contract';
import type { RolloutResult } from '../../domain/rollout/result';
import { ROLLOUT_STEPS, type RolloutStep } from '../../domain/rollout/status';
import { localActivities } from '../activity-proxies';
import { startRolloutRun, type RolloutRun } from './run';

/** Patch id of the rollout that fixes its validated plan in the history (see docs/versioning.md). */
const PLAN_RECORDED_ONCE = 'plan-recorded-once';

/** Rollouts recorded before this patch dropped plan fields they did not know; later ones refuse them. */
const UNKNOWN_FIELDS_REFUSED = 'plan-unknown-fields-refused';

/** Rollouts recorded before this patch ran their failure cleanup in the cancelled scope. */
const CLEANUP_SURVIVES_CANCELLATION = 'cleanup-survives-cancellation';

/**
 * The eight-step rollout, for every registered use case. The workflow
 * validates the plan with its use case's own check, then runs the eight
 * steps through the use case's contract; every effect happens in an
 * idempotent activity named after this workflow's id.
 */
export function rolloutWorkflow(useCases: readonly RegisteredUseCase[]) {
  return async function rollout(raw: unknown): Promise<RolloutResult> {
    // Rollouts started before unknown fields were refused read their plan without them, as they did then.
    const input = patched(UNKNOWN_FIELDS_REFUSED) ? raw : withoutUnknownFields(raw);
    const useCase = useCases.find((u) => u.kind === planKind(input)) ?? useCases[0]!;
    const checked = useCase.checkPlan(input);
    if (!checked.ok) {
      throw ApplicationFailure.create({
        type: 'InvalidPlan',
        nonRetryable: true,
        message: `The rollout plan is invalid; fix these fields and start again:\n${checked.problems.map((p) => `  - ${p}`).join('\n')}`,
        details: [{ problems: checked.problems }],
      });
    }
    const run = startRolloutRun(checked.plan);
    let end: RolloutEnd;
    try {
      // Rollouts started before 0.2 parsed their plan in workflow code on every replay; they keep doing so.
      if (patched(PLAN_RECORDED_ONCE)) run.adopt(await localActivities.recordPlan({ plan: checked.plan }));
      await run.audit('rollout', 'started', `rollout of ${run.plan.useCase} started`, run.plan.owner ?? 'aimo');
      end = await runSteps(useCase, run);
      await run.finish(end.state, end.failure);
    } catch (err) {
      if (run.finished) throw err;
      const message = err instanceof Error ? err.message : String(err);
      if (!patched(CLEANUP_SURVIVES_CANCELLATION)) {
        log.error('rollout failed', { step: run.tracker.status().currentStep, error: message });
        await run.finish('failed', message);
        throw err;
      }
      const cancelled = isCancellation(err);
      const { currentStep: step, waitingFor } = run.tracker.status();
      const where = waitingFor ? `while waiting for ${waitingFor}` : `during ${step}`;
      if (cancelled) log.warn('rollout cancelled', { step, waitingFor });
      else log.error('rollout failed', { step, error: message });
      // A cancelled run still records how far it got; the cleanup is shielded from the cancellation, and its own failure never hides the first one.
      await CancellationScope.nonCancellable(async () => {
        if (cancelled) await run.audit('rollout', 'cancelled', `cancelled ${where}`);
        await run.finish(cancelled ? 'cancelled' : 'failed', cancelled ? `Cancelled ${where}` : message);
      }).catch((cleanup: unknown) => log.error('rollout report not written', { error: cleanup instanceof Error ? cleanup.message : String(cleanup) }));
      throw err;
    }
    if (end.error) throw ApplicationFailure.create({ ...end.error, nonRetryable: true, details: end.error.details === undefined ? [] : [end.error.details] });
    return run.result;
  };
}

/** Runs the steps in order until one ends the rollout; all eight done is a completed rollout. */
async function runSteps(useCase: RegisteredUseCase, run: RolloutRun): Promise<RolloutEnd> {
  const state = useCase.initialState(run.plan);
  for (const step of ROLLOUT_STEPS) {
    const gated = await gateBefore(step, run);
    if (gated) return gated;
    run.tracker.begin(step);
    const implementation = useCase.steps[step];
    if (isNotApplicable(implementation)) {
      run.tracker.done(step, 'skipped', implementation.notApplicable, {});
      continue;
    }
    const report = await implementation(run, state);
    run.tracker.done(step, report.status, report.summary, report.numbers);
    if (report.end) return report.end;
  }
  await run.audit('rollout', 'completed', `rollout of ${run.plan.useCase} completed`);
  return { state: 'completed' };
}

/** The human gate a plan may put before its experiment, whatever the use case. */
async function gateBefore(step: RolloutStep, run: RolloutRun): Promise<RolloutEnd | undefined> {
  if (step !== 'experiment' || !run.plan.approval.beforeExperiment) return undefined;
  const decision = await run.approval('experiment');
  await run.audit('experiment', decision.decision, decision.reason, decision.by);
  if (decision.decision === 'approve') return undefined;
  return { state: 'rejected', failure: `Rejected before the experiment by ${decision.by}: ${decision.reason}` };
}
