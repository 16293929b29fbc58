import type { RolloutPlanBase } from '../../domain/rollout/plan';

export function createPlanRecordActivities() {
  return {
    /**
     * Hands back the plan as the workflow validated it, defaults applied. Run
     * as a local activity at the start, its result is kept in the history:
     * on replay the rollout uses that recorded plan, so a release that
     * changes a default never changes what a running rollout does.
     */
    async recordPlan<P extends RolloutPlanBase>({ plan }: { plan: P }): Promise<P> {
      return plan;
    },
  };
}
