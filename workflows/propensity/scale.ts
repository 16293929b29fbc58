import { executeChild } from '@temporalio/workflow';
import { scaledUseCase } from '../../domain/naming';
import type { RolloutPlan } from '../../domain/plan';
import { WORKFLOW_TYPES } from '../../domain/rollout/definitions';
import type { RolloutResult } from '../../domain/rollout/result';

type ScaleOutcome = NonNullable<RolloutResult['scale']>[number];

/** One child rollout per target market or channel, at most `maxConcurrent` at a time; each runs as its own use case. */
export async function scaleOut(plan: RolloutPlan, parentId: string): Promise<ScaleOutcome[]> {
  const pending = plan.scale.targets.map((target, index) => ({ target, index }));
  const outcomes: ScaleOutcome[] = [];
  const runOne = async (): Promise<void> => {
    for (let next = pending.shift(); next; next = pending.shift()) {
      const channel = next.target.channel ?? plan.kpi.channel;
      const market = next.target.market ?? plan.kpi.market;
      const childPlan: RolloutPlan = { ...plan, useCase: scaledUseCase(plan.useCase, channel, market), kpi: { ...plan.kpi, channel, market }, scale: { ...plan.scale, targets: [] } };
      const workflowId = `${parentId}-scale-${channel}-${market}`.toLowerCase();
      try {
        const child = await executeChild<(input: unknown) => Promise<RolloutResult>>(WORKFLOW_TYPES.rollout, { workflowId, args: [childPlan] });
        outcomes.push({ channel, market, workflowId, status: child.status, summary: child.experiment?.summary ?? child.failure ?? '' });
      } catch (err) {
        outcomes.push({ channel, market, workflowId, status: 'failed', summary: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.scale.maxConcurrent, pending.length) }, runOne));
  return outcomes.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}
