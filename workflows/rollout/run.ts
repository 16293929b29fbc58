import { patched, setHandler, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { durationToMs } from '../../domain/duration';
import { legacyTablePrefix, NAMES_64_BIT, rolloutTablePrefix } from '../../domain/naming';
import type { RolloutContext } from '../../domain/rollout/context';
import type { StepRun } from '../../domain/rollout/contract';
import type { RolloutPlanBase } from '../../domain/rollout/plan';
import { approvalUpdate, statusQuery } from '../../domain/rollout/definitions';
import { formatChange } from '../../domain/rollout/format';
import { rolloutReadout } from '../../domain/rollout/readout';
import type { RolloutResult } from '../../domain/rollout/result';
import type { RolloutState } from '../../domain/rollout/status';
import { quickActivities } from '../activity-proxies';
import { ApprovalGate } from './approval-gate';
import { RolloutTracker } from './tracker';

/** One rollout in progress: what its steps see, and how it ends. */
export interface RolloutRun extends StepRun<RolloutPlanBase> {
  readonly tracker: RolloutTracker;
  /** From here on the run follows this plan: the one recorded in the history */
  adopt(plan: RolloutPlanBase): void;
  /** Records the final state and writes the report; a run finishes once */
  finish(state: RolloutState, failure?: string): Promise<RolloutResult>;
  readonly finished: boolean;
}

/**
 * Sets a rollout up, before its first await so that queries and Updates find
 * their handlers at once: names derived from the workflow id, the tracker
 * (status query, search attributes, audit sequence), the approval Update and
 * the memo the UI shows. Everything the run writes is keyed by these names, so
 * retries and replays converge.
 */
export function startRolloutRun(plan: RolloutPlanBase): RolloutRun {
  const { workflowId } = workflowInfo();
  const tablePrefix = patched(NAMES_64_BIT) ? rolloutTablePrefix(plan.useCase, workflowId) : legacyTablePrefix(plan.useCase, workflowId);
  const ctx: RolloutContext = { workflowId, useCase: plan.useCase, tablePrefix };
  const goal = `${plan.kpi.metric} ${formatChange(plan.kpi.targetChange)} in ${plan.kpi.channel}/${plan.kpi.market}`;
  const tracker = new RolloutTracker(plan.useCase, goal);
  const gates = new ApprovalGate((waitingFor) => tracker.setState(waitingFor ? 'waiting-approval' : 'running', waitingFor));
  setHandler(statusQuery, () => tracker.status());
  setHandler(approvalUpdate, (decision) => gates.decide(decision), { validator: (decision) => gates.validate(decision) });
  upsertMemo({ summary: `Rollout of ${plan.useCase}: ${goal}` });

  // The readout key comes first, so the UI's Result opens with the answer; it is filled in when the run ends.
  const result: RolloutResult = { readout: undefined, useCase: plan.useCase, workflowId, plan, status: 'running', steps: [] };
  let finished = false;
  let current = plan;
  return {
    get plan() {
      return current;
    },
    adopt(recorded) {
      current = recorded;
      result.plan = recorded;
    },
    ctx,
    result,
    tracker,
    get finished() {
      return finished;
    },
    audit: (step, decision, reason, actor = 'aimo', details = {}) =>
      quickActivities.recordAudit({ ctx, seq: tracker.nextAuditSeq(), step, decision, actor, reason, details, at: new Date().toISOString() }),
    approval: (gate) => {
      tracker.waitAt(gate);
      return gates.wait(gate, durationToMs(current.approval.timeout), current.approval.onTimeout);
    },
    async finish(state, failure) {
      tracker.setState(state);
      result.status = state;
      result.steps = tracker.status().steps;
      if (failure) result.failure = failure;
      const written = await quickActivities.writeRolloutReport(result);
      result.reportPath = written.markdownPath;
      // Reports written before they were served over HTTP came back without a URL.
      if (written.url) result.reportUrl = written.url;
      result.readout = rolloutReadout(result);
      tracker.ended(result.readout, { path: written.markdownPath, ...(written.url ? { url: written.url } : {}) }, result.scale);
      finished = true;
      return result;
    },
  };
}
